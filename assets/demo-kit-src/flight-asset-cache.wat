;; Flight asset cache: a large bounded heap (32 MiB initial, 256 MiB maximum).
;; Too big for Dreamcast (16 MB) and V6R small's budget at its maximum; fits Vita, V6R medium and large.
(module
  (memory (export "memory") 512 4096)
  (func (export "capacity") (result i32)
    (i32.mul (memory.size) (i32.const 65536))))
