;; Flight session counter shared between worker threads: shared memory and atomics.
;; Needs a multi-threaded platform (Vita, V6R); Dreamcast refuses it.
(module
  (memory (export "memory") 1 64 shared)
  (func (export "next_session") (result i32)
    (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
  (func (export "wait_session") (param $expected i32) (result i32)
    (memory.atomic.wait32 (i32.const 0) (local.get $expected) (i64.const 1000000))))
