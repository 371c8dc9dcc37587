-- mlmon_window_pieces plans once per session without the ranges' values (migration 00007), so
-- its cost estimate assumes each range holds a ninth of a table: ~900,000 at 10 million
-- predictions, far above jit_above_cost (100,000). A server built with LLVM (Debian's and the
-- official Docker images, as in docker-compose.yml) then JIT-compiles the read on every call:
-- measured on PostgreSQL 15 with JIT, a /summary read took 85 ms instead of 2 ms. The read
-- touches a few hundred rows, where compiling never pays, so the function never JIT-compiles.
alter function mlmon_window_pieces(timestamptz[], text[], timestamptz[], timestamptz[], int[], float8, text)
  set jit = off;
