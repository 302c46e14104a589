;; Flight error codes: maps numeric error codes to static strings kept in linear memory.
;; Basic component: no threads, no SIMD, bounded memory (2 pages, max 4).
(module
  (memory (export "memory") 2 4)
  (func (export "message_offset") (param $code i32) (result i32)
    (block $unknown
      (br_if $unknown (i32.gt_u (local.get $code) (i32.const 2)))
      (return (i32.mul (local.get $code) (i32.const 32))))
    (i32.const 96))
  (data (i32.const 0) "ok")
  (data (i32.const 32) "out of memory")
  (data (i32.const 64) "platform mismatch")
  (data (i32.const 96) "unknown error"))
