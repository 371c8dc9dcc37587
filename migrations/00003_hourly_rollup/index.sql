-- A second rollup tier: the same mergeable aggregates per (hour, model_version). Long windows
-- (7 d, 30 d, /daily) then read hours, with minutes only at their partial-hour edges.
create table ml_rollup_hour (like ml_rollup_minute including defaults including constraints);
alter table ml_rollup_hour add primary key (bucket, model_version);
create index ml_rollup_hour_version on ml_rollup_hour (model_version, bucket);

-- Backfill from the minutes; the moments merge with the stable two-level formula.
with minutes as (
  select date_trunc('hour', bucket) as hour, m.* from ml_rollup_minute m
), centre as (
  select hour, model_version, sum(labelled * actual_mean) / nullif(sum(labelled), 0) as mean
  from minutes group by hour, model_version
)
insert into ml_rollup_hour
select m.hour, m.model_version, sum(predictions), sum(confidence_sum), sum(latency_count), sum(latency_sum_ms),
       sum(labelled), sum(accurate), sum(anomalies), sum(error_abs_sum), sum(error_sq_sum),
       coalesce(c.mean, 0), sum(actual_m2 + labelled * (actual_mean - coalesce(c.mean, 0)) ^ 2)
from minutes m join centre c using (hour, model_version)
group by m.hour, m.model_version, c.mean;
