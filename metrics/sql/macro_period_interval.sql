-- period_interval(grain): the length of one period of `grain` as an INTERVAL (a quarter is three
-- months), for stepping from one period to the next and for a period's end.
CREATE OR REPLACE MACRO period_interval(grain) AS
    CASE grain WHEN 'day' THEN INTERVAL 1 DAY WHEN 'week' THEN INTERVAL 7 DAY
               WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
