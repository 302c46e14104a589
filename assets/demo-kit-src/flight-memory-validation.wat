;; Flight memory validation: checks that a requested allocation fits a budget.
;; Single-threaded, one 64 KiB page, bounded to 16 pages: fits every platform, Dreamcast included.
(module
  (memory (export "memory") 1 16)
  (global $budget (mut i32) (i32.const 0))
  (func (export "set_budget") (param $bytes i32)
    (global.set $budget (local.get $bytes)))
  (func (export "fits") (param $bytes i32) (result i32)
    (i32.le_u (local.get $bytes) (global.get $budget)))
  (data (i32.const 0) "flight-memory-validation v1"))
