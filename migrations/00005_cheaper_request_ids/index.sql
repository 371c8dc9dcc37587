-- Claiming a request_id cost as much database time as inserting the prediction itself
-- (BENCHMARKS.md). Two cuts:
-- * compare request ids byte-wise: equality is the same under the deterministic database
--   collation, and "C" spares the btree the collation-aware comparisons;
-- * drop the created_at index: only retention reads it, once per dropped month, when a
--   sequential scan is fine.
drop index ml_request_id_created;
alter table ml_request_id alter column request_id type varchar(100) collate "C";
