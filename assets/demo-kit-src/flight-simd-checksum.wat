;; Flight payload checksum using 128-bit SIMD lanes: accepted by the full-feature platforms only.
(module
  (memory (export "memory") 16 256)
  (func (export "checksum16") (param $ptr i32) (result i32)
    (local $v v128)
    (local.set $v (v128.load (local.get $ptr)))
    (i32.add
      (i32x4.extract_lane 0 (i32x4.add (local.get $v) (i32x4.splat (i32.const 0x9e3779b9))))
      (i32x4.extract_lane 3 (local.get $v)))))
