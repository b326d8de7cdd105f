-- grouped_grain(by_day, by_week, by_month): the grain of a GROUPING SETS row whose sets each group by
-- one of day / week / month / quarter, from grouping() of the first three (0: grouped by it): the
-- first grouped, else quarter. Called as grouped_grain(grouping(day), grouping(week), grouping(month));
-- a model without day periods passes 1 for by_day.
CREATE OR REPLACE MACRO grouped_grain(by_day, by_week, by_month) AS
    CASE WHEN by_day = 0 THEN 'day' WHEN by_week = 0 THEN 'week' WHEN by_month = 0 THEN 'month' ELSE 'quarter' END
