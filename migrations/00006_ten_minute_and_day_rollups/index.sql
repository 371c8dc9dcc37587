-- Two more rollup tiers, kept by the same writes: per (10 minutes, model_version) and per
-- (UTC day, model_version). A window then reads whole days, then whole hours, then 10-minute
-- blocks, then minutes, then raw rows only at its edges: /daily?days=30 reads ~90 day rows instead
-- of ~2,200 hour rows, and /summary and the scrape far fewer edge minutes (BENCHMARKS.md).
-- Buckets are aligned to the epoch with date_bin (PostgreSQL 14 or later), as the service plans them.
create table ml_rollup_10min (like ml_rollup_minute including defaults including constraints);
alter table ml_rollup_10min add primary key (bucket, model_version);
create index ml_rollup_10min_version on ml_rollup_10min (model_version, bucket);

create table ml_rollup_day (like ml_rollup_minute including defaults including constraints);
alter table ml_rollup_day add primary key (bucket, model_version);
create index ml_rollup_day_version on ml_rollup_day (model_version, bucket);

-- Backfill from the minutes; the moments merge with the stable two-level formula.
create function pg_temp.backfill_rollup(target regclass, stride interval) returns void language plpgsql as $$
begin
  execute format($sql$
    with minutes as (
      select date_bin(%L, bucket, timestamptz '1970-01-01 00:00:00+00') as coarse, m.* from ml_rollup_minute m
    ), centre as (
      select coarse, model_version, sum(labelled * actual_mean) / nullif(sum(labelled), 0) as mean
      from minutes group by coarse, model_version
    )
    insert into %s
    select m.coarse, m.model_version, sum(predictions), sum(confidence_sum), sum(latency_count), sum(latency_sum_ms),
           sum(labelled), sum(accurate), sum(anomalies), sum(error_abs_sum), sum(error_sq_sum),
           coalesce(c.mean, 0), sum(actual_m2 + labelled * (actual_mean - coalesce(c.mean, 0)) ^ 2)
    from minutes m join centre c using (coarse, model_version)
    group by m.coarse, m.model_version, c.mean
  $sql$, stride, target);
end
$$;
select pg_temp.backfill_rollup('ml_rollup_10min', interval '10 minutes');
select pg_temp.backfill_rollup('ml_rollup_day', interval '1 day');
