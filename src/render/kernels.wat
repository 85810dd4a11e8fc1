;; WebAssembly SIMD kernels for the per-frame hot loops: separable
;; resampling for preprocessing (frame -> network input) and for upsampling
;; (and normalising) the prediction, and the min/max scan of a prediction.
;; resize.ts and preprocess.ts hold the reference implementations in plain
;; TypeScript; these compute the same sums (same tap tables, same order of
;; additions) in float32, and test/render/kernels.test.ts holds them to it.
;;
;; Why: on 2 cores every millisecond of this work is taken from onnxruntime's
;; threads. The vertical pass is contiguous, so four outputs go per
;; instruction; the horizontal pass of RGB frames carries R, G and B in one
;; vector per tap; yuv420p frames and upsampled predictions are tapped four
;; outputs at a time through byte swizzles (rowsYuvTaps, rowsF32Up, rowsF32Up4).
;; Assembled by scripts/build-wasm.mjs into dist/render/kernels.wasm.
;;
;; Tap tables always have 4 taps per output (2-tap bilinear tables are padded
;; with zero weights): entry k of output i is at byte (i * 16 + k * 4). The
;; "2" kernels read only taps 0 and 1 of a bilinear table, as resize.ts's
;; loops do: the padding adds 0 times the sample tap 1 reads, which changes
;; nothing but a zero's sign for a finite sample (an infinite one made the
;; padded sum NaN where the loops give the infinity), and skipping it halves
;; the arithmetic of a pass bound by it.
(module
  (memory (export "memory") 1)

  ;; Vertical pass of one float plane: `outH` rows of `width` floats at $dst,
  ;; row y = (sum_k w[y,k] * src row idx[y,k] + offset) * scale. $idx holds
  ;; source row numbers. The offset comes before the scale so that
  ;; normalising, (v - lo) / (hi - lo), subtracts before it divides, as
  ;; normalizeDepth does: no cancellation when lo is large against hi - lo.
  ;; With $clamp set, each result is clamped to [0, 1] with NaN going to 0
  ;; (normalizeDepth's rule), so upsampling and normalising take one pass.
  (func $columns (export "columns")
    (param $src i32) (param $width i32) (param $outH i32) (param $dst i32)
    (param $idx i32) (param $wts i32) (param $offset f32) (param $scale f32) (param $clamp i32)
    (local $y i32) (local $rowBytes i32) (local $vecEnd i32) (local $t i32) (local $u i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $d i32) (local $x i32)
    (local $w0 f32) (local $w1 f32) (local $w2 f32) (local $w3 f32) (local $s f32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $vo v128) (local $vs v128) (local $acc v128)
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $vo (f32x4.splat (local.get $offset)))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $y) (local.get $outH)))
        (local.set $t (i32.add (local.get $idx) (i32.shl (local.get $y) (i32.const 4))))
        (local.set $u (i32.add (local.get $wts) (i32.shl (local.get $y) (i32.const 4))))
        (local.set $r0 (i32.add (local.get $src) (i32.mul (i32.load (local.get $t)) (local.get $rowBytes))))
        (local.set $r1 (i32.add (local.get $src) (i32.mul (i32.load offset=4 (local.get $t)) (local.get $rowBytes))))
        (local.set $r2 (i32.add (local.get $src) (i32.mul (i32.load offset=8 (local.get $t)) (local.get $rowBytes))))
        (local.set $r3 (i32.add (local.get $src) (i32.mul (i32.load offset=12 (local.get $t)) (local.get $rowBytes))))
        (local.set $w0 (f32.load (local.get $u)))
        (local.set $w1 (f32.load offset=4 (local.get $u)))
        (local.set $w2 (f32.load offset=8 (local.get $u)))
        (local.set $w3 (f32.load offset=12 (local.get $u)))
        (local.set $v0 (f32x4.splat (local.get $w0)))
        (local.set $v1 (f32x4.splat (local.get $w1)))
        (local.set $v2 (f32x4.splat (local.get $w2)))
        (local.set $v3 (f32x4.splat (local.get $w3)))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $rowBytes))))
        (local.set $x (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $x) (local.get $vecEnd)))
            (local.set $acc
              (f32x4.mul
                (f32x4.add
                  (f32x4.add
                    (f32x4.add
                      (f32x4.add
                        (f32x4.mul (local.get $v0) (v128.load (i32.add (local.get $r0) (local.get $x))))
                        (f32x4.mul (local.get $v1) (v128.load (i32.add (local.get $r1) (local.get $x)))))
                      (f32x4.mul (local.get $v2) (v128.load (i32.add (local.get $r2) (local.get $x)))))
                    (f32x4.mul (local.get $v3) (v128.load (i32.add (local.get $r3) (local.get $x)))))
                  (local.get $vo))
                (local.get $vs)))
            ;; pmax(0, v) is v only when 0 < v, so NaN becomes 0; then pmin(1, .) caps it.
            (if (local.get $clamp)
              (then (local.set $acc
                (f32x4.pmin (v128.const f32x4 1 1 1 1) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $acc))))))
            (v128.store (i32.add (local.get $d) (local.get $x)) (local.get $acc))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $vec)))
        ;; The last width % 4 columns, one at a time.
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $x) (local.get $rowBytes)))
            (local.set $s
              (f32.mul
                (f32.add
                  (f32.add
                    (f32.add
                      (f32.add
                        (f32.mul (local.get $w0) (f32.load (i32.add (local.get $r0) (local.get $x))))
                        (f32.mul (local.get $w1) (f32.load (i32.add (local.get $r1) (local.get $x)))))
                      (f32.mul (local.get $w2) (f32.load (i32.add (local.get $r2) (local.get $x)))))
                    (f32.mul (local.get $w3) (f32.load (i32.add (local.get $r3) (local.get $x)))))
                  (local.get $offset))
                (local.get $scale)))
            (if (local.get $clamp)
              (then (local.set $s
                (select
                  (select (local.get $s) (f32.const 1) (f32.lt (local.get $s) (f32.const 1)))
                  (f32.const 0)
                  (f32.gt (local.get $s) (f32.const 0))))))
            (f32.store (i32.add (local.get $d) (local.get $x)) (local.get $s))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br $tail)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

  ;; $columns for 2-tap (bilinear) tables: the sum without the two
  ;; zero-weight taps of the padding (see the top of this file).
  (func $columns2 (export "columns2")
    (param $src i32) (param $width i32) (param $outH i32) (param $dst i32)
    (param $idx i32) (param $wts i32) (param $offset f32) (param $scale f32) (param $clamp i32)
    (local $y i32) (local $rowBytes i32) (local $vecEnd i32) (local $t i32) (local $u i32)
    (local $r0 i32) (local $r1 i32) (local $d i32) (local $x i32)
    (local $w0 f32) (local $w1 f32) (local $s f32)
    (local $v0 v128) (local $v1 v128) (local $vo v128) (local $vs v128) (local $acc v128)
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $vo (f32x4.splat (local.get $offset)))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $y) (local.get $outH)))
        (local.set $t (i32.add (local.get $idx) (i32.shl (local.get $y) (i32.const 4))))
        (local.set $u (i32.add (local.get $wts) (i32.shl (local.get $y) (i32.const 4))))
        (local.set $r0 (i32.add (local.get $src) (i32.mul (i32.load (local.get $t)) (local.get $rowBytes))))
        (local.set $r1 (i32.add (local.get $src) (i32.mul (i32.load offset=4 (local.get $t)) (local.get $rowBytes))))
        (local.set $w0 (f32.load (local.get $u)))
        (local.set $w1 (f32.load offset=4 (local.get $u)))
        (local.set $v0 (f32x4.splat (local.get $w0)))
        (local.set $v1 (f32x4.splat (local.get $w1)))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $rowBytes))))
        (local.set $x (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $x) (local.get $vecEnd)))
            (local.set $acc
              (f32x4.mul
                (f32x4.add
                  (f32x4.add
                    (f32x4.mul (local.get $v0) (v128.load (i32.add (local.get $r0) (local.get $x))))
                    (f32x4.mul (local.get $v1) (v128.load (i32.add (local.get $r1) (local.get $x)))))
                  (local.get $vo))
                (local.get $vs)))
            (if (local.get $clamp)
              (then (local.set $acc
                (f32x4.pmin (v128.const f32x4 1 1 1 1) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $acc))))))
            (v128.store (i32.add (local.get $d) (local.get $x)) (local.get $acc))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $x) (local.get $rowBytes)))
            (local.set $s
              (f32.mul
                (f32.add
                  (f32.add
                    (f32.mul (local.get $w0) (f32.load (i32.add (local.get $r0) (local.get $x))))
                    (f32.mul (local.get $w1) (f32.load (i32.add (local.get $r1) (local.get $x)))))
                  (local.get $offset))
                (local.get $scale)))
            (if (local.get $clamp)
              (then (local.set $s
                (select
                  (select (local.get $s) (f32.const 1) (f32.lt (local.get $s) (f32.const 1)))
                  (f32.const 0)
                  (f32.gt (local.get $s) (f32.const 0))))))
            (f32.store (i32.add (local.get $d) (local.get $x)) (local.get $s))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br $tail)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

  ;; Horizontal pass from packed RGB24 bytes into three float planes of
  ;; `rows` x `outW`, still in 0..255 units. Each used source row is first
  ;; widened once into $row as one f32x4 (R, G, B, junk) per pixel, so each
  ;; tap is then one vector load, multiply and add; $idx holds byte offsets
  ;; into that row (index * 16). Rows whose $rowUsed byte is 0 are skipped
  ;; (downscaling reads only the rows the vertical taps touch). The source
  ;; must be followed by at least one readable byte.
  (func $rowsRgb (export "rowsRgb")
    (param $src i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $idx i32) (param $wts i32) (param $rowUsed i32) (param $row i32) (param $two i32)
    (local $y i32) (local $x i32) (local $s i32)
    (block $done
      (loop $line
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (if (i32.load8_u (i32.add (local.get $rowUsed) (local.get $y)))
          (then
            ;; Widen: 4 bytes (the pixel's R, G, B and one more) -> 4 floats.
            (local.set $s (i32.add (local.get $src) (i32.mul (local.get $y) (i32.mul (local.get $inW) (i32.const 3)))))
            (local.set $x (i32.const 0))
            (block $widened
              (loop $widen
                (br_if $widened (i32.ge_u (local.get $x) (local.get $inW)))
                (v128.store (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 4)))
                  (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                    (v128.load32_zero (i32.add (local.get $s) (i32.mul (local.get $x) (i32.const 3))))))))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))
                (br $widen)))
            (if (local.get $two)
              (then (call $tapRow2 (local.get $row) (local.get $dst) (local.get $rows) (local.get $y) (local.get $outW) (local.get $idx) (local.get $wts)))
              (else (call $tapRow (local.get $row) (local.get $dst) (local.get $rows) (local.get $y) (local.get $outW) (local.get $idx) (local.get $wts))))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $line))))

  ;; rowsRgb for a yuv420p picture: each used row is converted to RGB while
  ;; it is widened, with yuv-to-rgb.ts's fixed point (swscale's): chroma of
  ;; pixel x from column x/2 of chroma row y/2; Y' = (8Y - yOffset) * cy >> 16;
  ;; R = Y' + (8V - 1024) vr >> 16, G = Y' + (8U - 1024) ug >> 16 + (8V - 1024) vg >> 16,
  ;; B = Y' + (8U - 1024) ub >> 16, clamped to 0..255; so the floats are
  ;; those of the RGB frame ffmpeg would have sent. $coef: cy yOffset vr ub ug vg
  ;; as i32. Four pixels per step: $row needs room for inW rounded up to 4
  ;; pixels, and the planes must be followed by 16 readable bytes.
  (func $rowsYuv (export "rowsYuv")
    (param $yp i32) (param $up i32) (param $vp i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $idx i32) (param $wts i32) (param $rowUsed i32) (param $row i32) (param $coef i32) (param $two i32)
    (local $y i32) (local $x i32) (local $ys i32) (local $cs i32) (local $o i32)
    (local $cy v128) (local $yo v128) (local $vr v128) (local $ub v128) (local $ug v128) (local $vg v128)
    (local $l v128) (local $u v128) (local $v v128) (local $r v128) (local $g v128) (local $b v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $cy (v128.load32_splat (local.get $coef)))
    (local.set $yo (v128.load32_splat offset=4 (local.get $coef)))
    (local.set $vr (v128.load32_splat offset=8 (local.get $coef)))
    (local.set $ub (v128.load32_splat offset=12 (local.get $coef)))
    (local.set $ug (v128.load32_splat offset=16 (local.get $coef)))
    (local.set $vg (v128.load32_splat offset=20 (local.get $coef)))
    (block $done
      (loop $line
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (if (i32.load8_u (i32.add (local.get $rowUsed) (local.get $y)))
          (then
            (local.set $ys (i32.add (local.get $yp) (i32.mul (local.get $y) (local.get $inW))))
            (local.set $cs (i32.mul (i32.shr_u (local.get $y) (i32.const 1)) (i32.shr_u (local.get $inW) (i32.const 1))))
            (local.set $x (i32.const 0))
            (block $widened
              (loop $widen
                (br_if $widened (i32.ge_u (local.get $x) (local.get $inW)))
                (local.set $l (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                  (v128.load32_zero (i32.add (local.get $ys) (local.get $x))))))
                (local.set $o (i32.add (local.get $cs) (i32.shr_u (local.get $x) (i32.const 1))))
                ;; Chroma samples c0 c1 of this pixel pair pair become c0 c0 c1 c1.
                (local.set $u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                  (i8x16.shuffle 0 0 1 1 0 0 0 0 0 0 0 0 0 0 0 0
                    (v128.load16_splat (i32.add (local.get $up) (local.get $o))) (v128.const i32x4 0 0 0 0)))))
                (local.set $v (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                  (i8x16.shuffle 0 0 1 1 0 0 0 0 0 0 0 0 0 0 0 0
                    (v128.load16_splat (i32.add (local.get $vp) (local.get $o))) (v128.const i32x4 0 0 0 0)))))
                (local.set $l (i32x4.shr_s (i32x4.mul (i32x4.sub (i32x4.shl (local.get $l) (i32.const 3)) (local.get $yo)) (local.get $cy)) (i32.const 16)))
                (local.set $u (i32x4.sub (i32x4.shl (local.get $u) (i32.const 3)) (v128.const i32x4 1024 1024 1024 1024)))
                (local.set $v (i32x4.sub (i32x4.shl (local.get $v) (i32.const 3)) (v128.const i32x4 1024 1024 1024 1024)))
                (local.set $r (i32x4.add (local.get $l) (i32x4.shr_s (i32x4.mul (local.get $v) (local.get $vr)) (i32.const 16))))
                (local.set $g (i32x4.add (i32x4.add (local.get $l) (i32x4.shr_s (i32x4.mul (local.get $u) (local.get $ug)) (i32.const 16)))
                  (i32x4.shr_s (i32x4.mul (local.get $v) (local.get $vg)) (i32.const 16))))
                (local.set $b (i32x4.add (local.get $l) (i32x4.shr_s (i32x4.mul (local.get $u) (local.get $ub)) (i32.const 16))))
                (local.set $r (f32x4.convert_i32x4_s (i32x4.min_s (v128.const i32x4 255 255 255 255) (i32x4.max_s (v128.const i32x4 0 0 0 0) (local.get $r)))))
                (local.set $g (f32x4.convert_i32x4_s (i32x4.min_s (v128.const i32x4 255 255 255 255) (i32x4.max_s (v128.const i32x4 0 0 0 0) (local.get $g)))))
                (local.set $b (f32x4.convert_i32x4_s (i32x4.min_s (v128.const i32x4 255 255 255 255) (i32x4.max_s (v128.const i32x4 0 0 0 0) (local.get $b)))))
                ;; Transpose planar R, G, B of 4 pixels into 4 (R, G, B, 0) vectors.
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r) (local.get $g)))
                (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b) (v128.const i32x4 0 0 0 0)))
                (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r) (local.get $g)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b) (v128.const i32x4 0 0 0 0)))
                (local.set $o (i32.add (local.get $row) (i32.shl (local.get $x) (i32.const 4))))
                (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
                (v128.store offset=16 (local.get $o) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
                (v128.store offset=32 (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
                (v128.store offset=48 (local.get $o) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
                (local.set $x (i32.add (local.get $x) (i32.const 4)))
                (br $widen)))
            (if (local.get $two)
              (then (call $tapRow2 (local.get $row) (local.get $dst) (local.get $rows) (local.get $y) (local.get $outW) (local.get $idx) (local.get $wts)))
              (else (call $tapRow (local.get $row) (local.get $dst) (local.get $rows) (local.get $y) (local.get $outW) (local.get $idx) (local.get $wts))))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $line))))

  ;; $rowsYuv and its horizontal taps in one pass, four outputs at a time,
  ;; converting only the pixels the taps read: the taps of four neighbouring
  ;; outputs fall within 16 neighbouring pixels, so one 16-byte load of Y,
  ;; of U and of V and a byte swizzle each give every tap's pixel (with its
  ;; chroma), and each tap's R, G and B come out as one vector across the
  ;; four outputs. No RGB row is widened and nothing is transposed. With
  ;; $pairs, where four outputs reach too far (4K), groups are of two, every
  ;; tap in one turn. $groups (kernels.ts's yuvTapGroups): per group, 112
  ;; bytes: the Y swizzle (byte 4k + l, or 2k + l with $pairs: tap k of
  ;; output l, as an offset from the first pixel), the chroma swizzle, the
  ;; weights as f32 in the same order from byte 32 (taps 2 and 3 unused
  ;; unless $four), the first pixel (even) at 96. Same products and the same
  ;; order of additions as $tapRow / $tapRow2 on $rowsYuv's floats, so the
  ;; same floats. Reads up to 15 bytes past a row: the planes must be
  ;; followed by 16 readable bytes. $coef: cy yOffset vr ub ug vg as i32.
  (func $rowsYuvTaps (export "rowsYuvTaps")
    (param $yp i32) (param $up i32) (param $vp i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $groups i32) (param $rowUsed i32) (param $coef i32) (param $four i32) (param $pairs i32)
    (local $y i32) (local $ys i32) (local $us i32) (local $vs i32) (local $g i32) (local $x i32) (local $d i32) (local $plane i32) (local $b i32) (local $c i32)
    (local $cy v128) (local $yo v128) (local $vr v128) (local $ub v128) (local $ug v128) (local $vg v128)
    (local $vy v128) (local $vu v128) (local $vv v128)
    (local $h i32) (local $l v128) (local $cu v128) (local $cv v128) (local $llo v128) (local $lhi v128) (local $r v128) (local $gr v128) (local $bl v128)
    (local $ar v128) (local $ag v128) (local $ab v128) (local $p v128) (local $q v128) (local $n i32)
    (local.set $cy (i16x8.splat (i32.load (local.get $coef))))
    (local.set $yo (i16x8.splat (i32.load offset=4 (local.get $coef))))
    (local.set $vr (i16x8.splat (i32.load offset=8 (local.get $coef))))
    (local.set $ub (i16x8.splat (i32.load offset=12 (local.get $coef))))
    (local.set $ug (i16x8.splat (i32.load offset=16 (local.get $coef))))
    (local.set $vg (i16x8.splat (i32.load offset=20 (local.get $coef))))
    (local.set $plane (i32.shl (i32.mul (local.get $rows) (local.get $outW)) (i32.const 2)))
    ;; Outputs a group.
    (local.set $n (select (i32.const 2) (i32.const 4) (local.get $pairs)))
    (block $done
      (loop $line
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (if (i32.load8_u (i32.add (local.get $rowUsed) (local.get $y)))
          (then
            (local.set $ys (i32.add (local.get $yp) (i32.mul (local.get $y) (local.get $inW))))
            (local.set $c (i32.mul (i32.shr_u (local.get $y) (i32.const 1)) (i32.shr_u (local.get $inW) (i32.const 1))))
            (local.set $us (i32.add (local.get $up) (local.get $c)))
            (local.set $vs (i32.add (local.get $vp) (local.get $c)))
            (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
            (local.set $g (local.get $groups))
            (local.set $x (i32.const 0))
            (block $rowDone
              (loop $group
                (br_if $rowDone (i32.ge_u (local.get $x) (local.get $outW)))
                (local.set $b (i32.load offset=96 (local.get $g)))
                (local.set $vy (i8x16.swizzle (v128.load (i32.add (local.get $ys) (local.get $b))) (v128.load (local.get $g))))
                (local.set $c (i32.shr_u (local.get $b) (i32.const 1)))
                (local.set $vu (i8x16.swizzle (v128.load (i32.add (local.get $us) (local.get $c))) (v128.load offset=16 (local.get $g))))
                (local.set $vv (i8x16.swizzle (v128.load (i32.add (local.get $vs) (local.get $c))) (v128.load offset=16 (local.get $g))))
                ;; Two taps a turn, low bytes first: lanes 0-3 are tap k of the
                ;; four outputs, 4-7 tap k + 1. The sums start from -0, which
                ;; adds nothing (-0 + p is p), so they are tapRow's p0 + p1 (+ p2 + p3).
                (local.set $ar (v128.const f32x4 -0 -0 -0 -0))
                (local.set $ag (v128.const f32x4 -0 -0 -0 -0))
                (local.set $ab (v128.const f32x4 -0 -0 -0 -0))
                (local.set $h (local.get $g))
                (loop $turn
                  ;; yuv-to-rgb.ts's conversion ($rowsYuv's arithmetic) in i16
                  ;; lanes, products widened to i32: 8Y - yOffset, 8U - 1024,
                  ;; 8V - 1024 and the coefficients all fit in i16, so the
                  ;; products are the same integers.
                  (local.set $l (i16x8.sub (i16x8.shl (i16x8.extend_low_i8x16_u (local.get $vy)) (i32.const 3)) (local.get $yo)))
                  (local.set $cu (i16x8.sub (i16x8.shl (i16x8.extend_low_i8x16_u (local.get $vu)) (i32.const 3)) (v128.const i16x8 1024 1024 1024 1024 1024 1024 1024 1024)))
                  (local.set $cv (i16x8.sub (i16x8.shl (i16x8.extend_low_i8x16_u (local.get $vv)) (i32.const 3)) (v128.const i16x8 1024 1024 1024 1024 1024 1024 1024 1024)))
                  (local.set $llo (i32x4.shr_s (i32x4.extmul_low_i16x8_s (local.get $l) (local.get $cy)) (i32.const 16)))
                  (local.set $lhi (i32x4.shr_s (i32x4.extmul_high_i16x8_s (local.get $l) (local.get $cy)) (i32.const 16)))
                  ;; Each channel narrowed to i16 with saturation, then clamped to 0..255.
                  (local.set $r (i16x8.min_s (v128.const i16x8 255 255 255 255 255 255 255 255) (i16x8.max_s (v128.const i16x8 0 0 0 0 0 0 0 0)
                    (i16x8.narrow_i32x4_s
                      (i32x4.add (local.get $llo) (i32x4.shr_s (i32x4.extmul_low_i16x8_s (local.get $cv) (local.get $vr)) (i32.const 16)))
                      (i32x4.add (local.get $lhi) (i32x4.shr_s (i32x4.extmul_high_i16x8_s (local.get $cv) (local.get $vr)) (i32.const 16)))))))
                  (local.set $gr (i16x8.min_s (v128.const i16x8 255 255 255 255 255 255 255 255) (i16x8.max_s (v128.const i16x8 0 0 0 0 0 0 0 0)
                    (i16x8.narrow_i32x4_s
                      (i32x4.add (i32x4.add (local.get $llo) (i32x4.shr_s (i32x4.extmul_low_i16x8_s (local.get $cu) (local.get $ug)) (i32.const 16)))
                        (i32x4.shr_s (i32x4.extmul_low_i16x8_s (local.get $cv) (local.get $vg)) (i32.const 16)))
                      (i32x4.add (i32x4.add (local.get $lhi) (i32x4.shr_s (i32x4.extmul_high_i16x8_s (local.get $cu) (local.get $ug)) (i32.const 16)))
                        (i32x4.shr_s (i32x4.extmul_high_i16x8_s (local.get $cv) (local.get $vg)) (i32.const 16)))))))
                  (local.set $bl (i16x8.min_s (v128.const i16x8 255 255 255 255 255 255 255 255) (i16x8.max_s (v128.const i16x8 0 0 0 0 0 0 0 0)
                    (i16x8.narrow_i32x4_s
                      (i32x4.add (local.get $llo) (i32x4.shr_s (i32x4.extmul_low_i16x8_s (local.get $cu) (local.get $ub)) (i32.const 16)))
                      (i32x4.add (local.get $lhi) (i32x4.shr_s (i32x4.extmul_high_i16x8_s (local.get $cu) (local.get $ub)) (i32.const 16)))))))
                  (if (local.get $pairs)
                    (then
                      ;; Two outputs a group, every tap in this one turn: lanes
                      ;; 0-1 are tap 0 of the two outputs, 2-3 tap 1, 4-5 tap 2,
                      ;; 6-7 tap 3; ((p0 + p1) + p2) + p3 lands in lanes 0 and 1.
                      (local.set $p (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $r))) (v128.load offset=32 (local.get $g))))
                      (local.set $ar (f32x4.add (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $p) (local.get $p))))
                      (if (local.get $four)
                        (then
                          (local.set $q (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $r))) (v128.load offset=48 (local.get $g))))
                          (local.set $ar (f32x4.add (f32x4.add (local.get $ar) (local.get $q)) (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $q) (local.get $q))))))
                      (local.set $p (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $gr))) (v128.load offset=32 (local.get $g))))
                      (local.set $ag (f32x4.add (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $p) (local.get $p))))
                      (if (local.get $four)
                        (then
                          (local.set $q (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $gr))) (v128.load offset=48 (local.get $g))))
                          (local.set $ag (f32x4.add (f32x4.add (local.get $ag) (local.get $q)) (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $q) (local.get $q))))))
                      (local.set $p (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $bl))) (v128.load offset=32 (local.get $g))))
                      (local.set $ab (f32x4.add (local.get $p) (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $p) (local.get $p))))
                      (if (local.get $four)
                        (then
                          (local.set $q (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $bl))) (v128.load offset=48 (local.get $g))))
                          (local.set $ab (f32x4.add (f32x4.add (local.get $ab) (local.get $q)) (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $q) (local.get $q))))))
                    )
                    (else
                    ;; acc = (acc + tap k * w_k) + tap k+1 * w_k+1, weights at $h + 32 and + 48.
                    (local.set $ar (f32x4.add (f32x4.add (local.get $ar)
                      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $r))) (v128.load offset=32 (local.get $h))))
                      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $r))) (v128.load offset=48 (local.get $h)))))
                    (local.set $ag (f32x4.add (f32x4.add (local.get $ag)
                      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $gr))) (v128.load offset=32 (local.get $h))))
                      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $gr))) (v128.load offset=48 (local.get $h)))))
                    (local.set $ab (f32x4.add (f32x4.add (local.get $ab)
                      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $bl))) (v128.load offset=32 (local.get $h))))
                      (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $bl))) (v128.load offset=48 (local.get $h)))))))
                  ;; With four taps, a second turn on the high bytes (taps 2 and 3).
                  (local.set $vy (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $vy) (local.get $vy)))
                  (local.set $vu (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $vu) (local.get $vu)))
                  (local.set $vv (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $vv) (local.get $vv)))
                  (local.set $h (i32.add (local.get $h) (i32.const 32)))
                  (br_if $turn (i32.and (i32.and (local.get $four) (i32.eqz (local.get $pairs))) (i32.eq (local.get $h) (i32.add (local.get $g) (i32.const 32))))))
                (local.set $c (i32.add (local.get $d) (i32.shl (local.get $x) (i32.const 2))))
                (if (i32.le_u (i32.add (local.get $x) (local.get $n)) (local.get $outW))
                  (then
                    (if (local.get $pairs)
                      (then
                        (v128.store64_lane 0 (local.get $c) (local.get $ar))
                        (v128.store64_lane 0 (i32.add (local.get $c) (local.get $plane)) (local.get $ag))
                        (v128.store64_lane 0 (i32.add (local.get $c) (i32.shl (local.get $plane) (i32.const 1))) (local.get $ab)))
                      (else
                        (v128.store (local.get $c) (local.get $ar))
                        (v128.store (i32.add (local.get $c) (local.get $plane)) (local.get $ag))
                        (v128.store (i32.add (local.get $c) (i32.shl (local.get $plane) (i32.const 1))) (local.get $ab)))))
                  (else
                    ;; The last, partial group: only its outputs' lanes, so the next plane's first row stays.
                    (v128.store32_lane 0 (local.get $c) (local.get $ar))
                    (v128.store32_lane 0 (i32.add (local.get $c) (local.get $plane)) (local.get $ag))
                    (v128.store32_lane 0 (i32.add (local.get $c) (i32.shl (local.get $plane) (i32.const 1))) (local.get $ab))
                    (if (i32.gt_u (i32.sub (local.get $outW) (local.get $x)) (i32.const 1))
                      (then
                        (v128.store32_lane offset=4 1 (local.get $c) (local.get $ar))
                        (v128.store32_lane offset=4 1 (i32.add (local.get $c) (local.get $plane)) (local.get $ag))
                        (v128.store32_lane offset=4 1 (i32.add (local.get $c) (i32.shl (local.get $plane) (i32.const 1))) (local.get $ab))))
                    (if (i32.gt_u (i32.sub (local.get $outW) (local.get $x)) (i32.const 2))
                      (then
                        (v128.store32_lane offset=8 2 (local.get $c) (local.get $ar))
                        (v128.store32_lane offset=8 2 (i32.add (local.get $c) (local.get $plane)) (local.get $ag))
                        (v128.store32_lane offset=8 2 (i32.add (local.get $c) (i32.shl (local.get $plane) (i32.const 1))) (local.get $ab))))))
                (local.set $x (i32.add (local.get $x) (local.get $n)))
                (local.set $g (i32.add (local.get $g) (i32.const 112)))
                (br $group)))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $line))))

  ;; The taps of one widened row (see rowsRgb) into row $y of the three
  ;; planes of `rows` x `outW` floats at $dst.
  (func $tapRow (param $row i32) (param $dst i32) (param $rows i32) (param $y i32) (param $outW i32) (param $idx i32) (param $wts i32)
    (local $x i32) (local $d i32) (local $t i32) (local $u i32) (local $plane i32) (local $acc v128)
    (local.set $plane (i32.shl (i32.mul (local.get $rows) (local.get $outW)) (i32.const 2)))
    (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
    (block $rowDone
      (loop $col
        (br_if $rowDone (i32.ge_u (local.get $x) (local.get $outW)))
        (local.set $t (i32.add (local.get $idx) (i32.shl (local.get $x) (i32.const 4))))
        (local.set $u (i32.add (local.get $wts) (i32.shl (local.get $x) (i32.const 4))))
        (local.set $acc
          (f32x4.add
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $row) (i32.load (local.get $t)))) (v128.load32_splat (local.get $u)))
                (f32x4.mul (v128.load (i32.add (local.get $row) (i32.load offset=4 (local.get $t)))) (v128.load32_splat offset=4 (local.get $u))))
              (f32x4.mul (v128.load (i32.add (local.get $row) (i32.load offset=8 (local.get $t)))) (v128.load32_splat offset=8 (local.get $u))))
            (f32x4.mul (v128.load (i32.add (local.get $row) (i32.load offset=12 (local.get $t)))) (v128.load32_splat offset=12 (local.get $u)))))
        (local.set $t (i32.add (local.get $d) (i32.shl (local.get $x) (i32.const 2))))
        (f32.store (local.get $t) (f32x4.extract_lane 0 (local.get $acc)))
        (f32.store (i32.add (local.get $t) (local.get $plane)) (f32x4.extract_lane 1 (local.get $acc)))
        (f32.store (i32.add (local.get $t) (i32.shl (local.get $plane) (i32.const 1))) (f32x4.extract_lane 2 (local.get $acc)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $col))))

  ;; $tapRow for 2-tap tables (taps 0 and 1; the padding's zero taps skipped).
  (func $tapRow2 (param $row i32) (param $dst i32) (param $rows i32) (param $y i32) (param $outW i32) (param $idx i32) (param $wts i32)
    (local $x i32) (local $d i32) (local $t i32) (local $u i32) (local $plane i32) (local $acc v128)
    (local.set $plane (i32.shl (i32.mul (local.get $rows) (local.get $outW)) (i32.const 2)))
    (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
    (block $rowDone
      (loop $col
        (br_if $rowDone (i32.ge_u (local.get $x) (local.get $outW)))
        (local.set $t (i32.add (local.get $idx) (i32.shl (local.get $x) (i32.const 4))))
        (local.set $u (i32.add (local.get $wts) (i32.shl (local.get $x) (i32.const 4))))
        (local.set $acc
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $row) (i32.load (local.get $t)))) (v128.load32_splat (local.get $u)))
            (f32x4.mul (v128.load (i32.add (local.get $row) (i32.load offset=4 (local.get $t)))) (v128.load32_splat offset=4 (local.get $u)))))
        (local.set $t (i32.add (local.get $d) (i32.shl (local.get $x) (i32.const 2))))
        (f32.store (local.get $t) (f32x4.extract_lane 0 (local.get $acc)))
        (f32.store (i32.add (local.get $t) (local.get $plane)) (f32x4.extract_lane 1 (local.get $acc)))
        (f32.store (i32.add (local.get $t) (i32.shl (local.get $plane) (i32.const 1))) (f32x4.extract_lane 2 (local.get $acc)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $col))))

  ;; Horizontal pass of a float plane: `rows` rows of `inW` floats into rows
  ;; of `outW`. $idx holds byte offsets of source samples within a row (index * 4).
  (func $rowsF32 (export "rowsF32")
    (param $src i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $idx i32) (param $wts i32)
    (local $y i32) (local $x i32) (local $s i32) (local $d i32) (local $t i32) (local $u i32)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $inW)) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
        (local.set $x (i32.const 0))
        (block $rowDone
          (loop $col
            (br_if $rowDone (i32.ge_u (local.get $x) (local.get $outW)))
            (local.set $t (i32.add (local.get $idx) (i32.shl (local.get $x) (i32.const 4))))
            (local.set $u (i32.add (local.get $wts) (i32.shl (local.get $x) (i32.const 4))))
            (f32.store (i32.add (local.get $d) (i32.shl (local.get $x) (i32.const 2)))
              (f32.add
                (f32.add
                  (f32.add
                    (f32.mul (f32.load (local.get $u)) (f32.load (i32.add (local.get $s) (i32.load (local.get $t)))))
                    (f32.mul (f32.load offset=4 (local.get $u)) (f32.load (i32.add (local.get $s) (i32.load offset=4 (local.get $t))))))
                  (f32.mul (f32.load offset=8 (local.get $u)) (f32.load (i32.add (local.get $s) (i32.load offset=8 (local.get $t))))))
                (f32.mul (f32.load offset=12 (local.get $u)) (f32.load (i32.add (local.get $s) (i32.load offset=12 (local.get $t)))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $col)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))
  ;; $rowsF32 for 2-tap tables.
  (func $rowsF32x2 (export "rowsF32x2")
    (param $src i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $idx i32) (param $wts i32)
    (local $y i32) (local $x i32) (local $s i32) (local $d i32) (local $t i32) (local $u i32)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $inW)) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
        (local.set $x (i32.const 0))
        (block $rowDone
          (loop $col
            (br_if $rowDone (i32.ge_u (local.get $x) (local.get $outW)))
            (local.set $t (i32.add (local.get $idx) (i32.shl (local.get $x) (i32.const 4))))
            (local.set $u (i32.add (local.get $wts) (i32.shl (local.get $x) (i32.const 4))))
            (f32.store (i32.add (local.get $d) (i32.shl (local.get $x) (i32.const 2)))
              (f32.add
                (f32.mul (f32.load (local.get $u)) (f32.load (i32.add (local.get $s) (i32.load (local.get $t)))))
                (f32.mul (f32.load offset=4 (local.get $u)) (f32.load (i32.add (local.get $s) (i32.load offset=4 (local.get $t)))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $col)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

  ;; $rowsF32x2 four outputs at a time, for upsampling: the two taps of four
  ;; neighbouring outputs fall within four neighbouring samples, so one
  ;; vector load of those and two byte swizzles give each tap's samples.
  ;; $groups holds, per four outputs, 80 bytes: the swizzle of tap 0 and of
  ;; tap 1, their four weights each, and the byte offset of the first sample
  ;; (kernels.ts's upsampleGroups). The same products and sum as $rowsF32x2;
  ;; outputs past the last whole group go through it, with $idx and $wts. A
  ;; row's last group may read up to 12 bytes past the row: the source must
  ;; be followed by 16 readable bytes.
  (func $rowsF32Up (export "rowsF32Up")
    (param $src i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $groups i32) (param $idx i32) (param $wts i32)
    (local $y i32) (local $x i32) (local $s i32) (local $d i32) (local $g i32) (local $gEnd i32) (local $v v128) (local $vecW i32)
    (local.set $vecW (i32.and (local.get $outW) (i32.const -4)))
    (local.set $gEnd (i32.add (local.get $groups) (i32.mul (i32.shr_u (local.get $outW) (i32.const 2)) (i32.const 80))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $inW)) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
        (local.set $g (local.get $groups))
        (block $groupsDone
          (loop $group
            (br_if $groupsDone (i32.ge_u (local.get $g) (local.get $gEnd)))
            (local.set $v (v128.load (i32.add (local.get $s) (i32.load offset=64 (local.get $g)))))
            (v128.store (local.get $d)
              (f32x4.add
                (f32x4.mul (v128.load offset=32 (local.get $g)) (i8x16.swizzle (local.get $v) (v128.load (local.get $g))))
                (f32x4.mul (v128.load offset=48 (local.get $g)) (i8x16.swizzle (local.get $v) (v128.load offset=16 (local.get $g))))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 80)))
            (br $group)))
        (local.set $x (local.get $vecW))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $x) (local.get $outW)))
            (local.set $g (i32.shl (local.get $x) (i32.const 4)))
            (f32.store (local.get $d)
              (f32.add
                (f32.mul (f32.load (i32.add (local.get $wts) (local.get $g))) (f32.load (i32.add (local.get $s) (i32.load (i32.add (local.get $idx) (local.get $g))))))
                (f32.mul (f32.load offset=4 (i32.add (local.get $wts) (local.get $g))) (f32.load (i32.add (local.get $s) (i32.load offset=4 (i32.add (local.get $idx) (local.get $g))))))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $tail)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

  ;; $rowsF32 four outputs at a time for 4-tap (bicubic) upsampling: the taps
  ;; of four neighbouring outputs lie within eight neighbouring samples, so
  ;; two vector loads hold them, and per tap two byte swizzles (one from each
  ;; load, 0 in the lanes the other fills) and an `or` give the tap's four
  ;; samples. $groups holds, per four outputs, 208 bytes: per tap k, at 48k,
  ;; the swizzle from the first load, from the second, and the four weights;
  ;; at 192 the byte offset of the first sample (kernels.ts's
  ;; upsampleGroups). The same products, added in the same order, as
  ;; $rowsF32; outputs past the last whole group go through it. Reads up to
  ;; 28 bytes past a row: the source must be followed by 32 readable bytes.
  (func $rowsF32Up4 (export "rowsF32Up4")
    (param $src i32) (param $inW i32) (param $rows i32) (param $dst i32) (param $outW i32)
    (param $groups i32) (param $idx i32) (param $wts i32)
    (local $y i32) (local $x i32) (local $s i32) (local $d i32) (local $g i32) (local $gEnd i32) (local $p i32)
    (local $a v128) (local $b v128) (local $vecW i32)
    (local.set $vecW (i32.and (local.get $outW) (i32.const -4)))
    (local.set $gEnd (i32.add (local.get $groups) (i32.mul (i32.shr_u (local.get $outW) (i32.const 2)) (i32.const 208))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $y) (local.get $inW)) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $y) (local.get $outW)) (i32.const 2))))
        (local.set $g (local.get $groups))
        (block $groupsDone
          (loop $group
            (br_if $groupsDone (i32.ge_u (local.get $g) (local.get $gEnd)))
            (local.set $p (i32.add (local.get $s) (i32.load offset=192 (local.get $g))))
            (local.set $a (v128.load (local.get $p)))
            (local.set $b (v128.load offset=16 (local.get $p)))
            (v128.store (local.get $d)
              (f32x4.add
                (f32x4.add
                  (f32x4.add
                    (f32x4.mul (v128.load offset=32 (local.get $g))
                      (v128.or (i8x16.swizzle (local.get $a) (v128.load (local.get $g))) (i8x16.swizzle (local.get $b) (v128.load offset=16 (local.get $g)))))
                    (f32x4.mul (v128.load offset=80 (local.get $g))
                      (v128.or (i8x16.swizzle (local.get $a) (v128.load offset=48 (local.get $g))) (i8x16.swizzle (local.get $b) (v128.load offset=64 (local.get $g))))))
                  (f32x4.mul (v128.load offset=128 (local.get $g))
                    (v128.or (i8x16.swizzle (local.get $a) (v128.load offset=96 (local.get $g))) (i8x16.swizzle (local.get $b) (v128.load offset=112 (local.get $g))))))
                (f32x4.mul (v128.load offset=176 (local.get $g))
                  (v128.or (i8x16.swizzle (local.get $a) (v128.load offset=144 (local.get $g))) (i8x16.swizzle (local.get $b) (v128.load offset=160 (local.get $g)))))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 208)))
            (br $group)))
        (local.set $x (local.get $vecW))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $x) (local.get $outW)))
            (local.set $g (i32.shl (local.get $x) (i32.const 4)))
            (local.set $p (i32.add (local.get $wts) (local.get $g)))
            (local.set $g (i32.add (local.get $idx) (local.get $g)))
            (f32.store (local.get $d)
              (f32.add
                (f32.add
                  (f32.add
                    (f32.mul (f32.load (local.get $p)) (f32.load (i32.add (local.get $s) (i32.load (local.get $g)))))
                    (f32.mul (f32.load offset=4 (local.get $p)) (f32.load (i32.add (local.get $s) (i32.load offset=4 (local.get $g))))))
                  (f32.mul (f32.load offset=8 (local.get $p)) (f32.load (i32.add (local.get $s) (i32.load offset=8 (local.get $g))))))
                (f32.mul (f32.load offset=12 (local.get $p)) (f32.load (i32.add (local.get $s) (i32.load offset=12 (local.get $g)))))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $tail)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

  ;; Smallest and largest of n floats, NaN skipped, written as two f32 at
  ;; $out. pmin/pmax keep the accumulator when the sample is NaN (the compare
  ;; is false); +-Infinity are counted here and filtered by the caller.
  (func $range (export "range") (param $src i32) (param $n i32) (param $out i32)
    (local $i i32) (local $end i32) (local $lo v128) (local $hi v128) (local $v v128)
    (local $mn f32) (local $mx f32) (local $s f32) (local $a f32) (local $b f32)
    (local.set $lo (v128.const f32x4 inf inf inf inf))
    (local.set $hi (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $end (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        ;; pmin(lo, v) = v < lo ? v : lo; pmax(hi, v) = hi < v ? v : hi.
        (local.set $lo (f32x4.pmin (local.get $lo) (local.get $v)))
        (local.set $hi (f32x4.pmax (local.get $hi) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vec)))
    (local.set $mn (f32.min (f32.min (f32x4.extract_lane 0 (local.get $lo)) (f32x4.extract_lane 1 (local.get $lo)))
                            (f32.min (f32x4.extract_lane 2 (local.get $lo)) (f32x4.extract_lane 3 (local.get $lo)))))
    (local.set $mx (f32.max (f32.max (f32x4.extract_lane 0 (local.get $hi)) (f32x4.extract_lane 1 (local.get $hi)))
                            (f32.max (f32x4.extract_lane 2 (local.get $hi)) (f32x4.extract_lane 3 (local.get $hi)))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (if (f32.lt (local.get $s) (local.get $mn)) (then (local.set $mn (local.get $s))))
        (if (f32.gt (local.get $s) (local.get $mx)) (then (local.set $mx (local.get $s))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (f32.store (local.get $out) (local.get $mn))
    (f32.store offset=4 (local.get $out) (local.get $mx)))

  ;; Colour-table indices of normalised depth, one at a time, in f64 as the
  ;; TypeScript rule computes them: floor(clamp(invert ? 1 - v : v, 0, 1) *
  ;; 255 + 0.5), NaN -> 0. The tail of $indices.
  (func $indicesTail (param $src i32) (param $n i32) (param $dst i32) (param $invert i32)
    (local $i i32) (local $s f64)
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))))
        (if (local.get $invert) (then (local.set $s (f64.sub (f64.const 1) (local.get $s)))))
        (local.set $s
          (select
            (select (local.get $s) (f64.const 1) (f64.lt (local.get $s) (f64.const 1)))
            (f64.const 0)
            (f64.gt (local.get $s) (f64.const 0))))
        (i32.store8 (i32.add (local.get $dst) (local.get $i))
          (i32.trunc_f64_u (f64.add (f64.mul (local.get $s) (f64.const 255)) (f64.const 0.5))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; Four colour-table indices from four floats in f32 arithmetic, exactly
  ;; as $indicesTail's f64 rule floor(clamp(v) * 255 + 0.5) gives them.
  ;; t = fl(s * 255) rounds the product, but a half-integer k + 1/2 is an
  ;; f32, so rounding can only move the product onto it, never across it:
  ;; the one wrong case is t landing exactly on k + 1/2 from below. There the exact
  ;; product's side is known from d = s * 256 - t, which is exact (Sterbenz:
  ;; s * 256 and t are within a factor of 2), against s (s * 255 = t + d - s).
  ;; Rounding t half up goes through floor(t) and t - floor(t), both exact:
  ;; t + 0.5 is not (it rounds when it crosses a power of two).
  ;; Inverted: floor((1 - s) * 255 + 1/2) = 255 - ceil(s * 255 - 1/2), which
  ;; is 255 - round_half_up(s * 255), plus one when s * 255 is exactly a
  ;; half-integer; NaN gives 0 either way, as 1 - NaN is NaN.
  ;; Checked against $indicesTail on every f32 from -0.25 to 1.25 both ways
  ;; (4.2e9 values, no difference); test/render/kernels.test.ts keeps the
  ;; values around every boundary.
  (func $quant4 (param $v v128) (param $invert i32) (result v128)
    (local $s v128) (local $t v128) (local $f v128) (local $frac v128) (local $k v128) (local $tie v128) (local $d v128)
    (local.set $s (f32x4.pmin (v128.const f32x4 1 1 1 1) (f32x4.pmax (v128.const f32x4 0 0 0 0) (local.get $v))))
    (local.set $t (f32x4.mul (local.get $s) (v128.const f32x4 255 255 255 255)))
    (local.set $f (f32x4.floor (local.get $t)))
    (local.set $frac (f32x4.sub (local.get $t) (local.get $f)))
    ;; True lanes are -1: subtracting the mask adds one, adding it takes one off.
    (local.set $k (i32x4.sub (i32x4.trunc_sat_f32x4_s (local.get $f)) (f32x4.ge (local.get $frac) (v128.const f32x4 0.5 0.5 0.5 0.5))))
    (local.set $tie (f32x4.eq (local.get $frac) (v128.const f32x4 0.5 0.5 0.5 0.5)))
    (local.set $d (f32x4.sub (f32x4.mul (local.get $s) (v128.const f32x4 256 256 256 256)) (local.get $t)))
    (local.set $k (i32x4.add (local.get $k) (v128.and (local.get $tie) (f32x4.lt (local.get $d) (local.get $s)))))
    (if (result v128) (local.get $invert)
      (then
        (v128.and (f32x4.eq (local.get $v) (local.get $v))
          (i32x4.sub (i32x4.sub (v128.const i32x4 255 255 255 255) (local.get $k))
            (v128.and (local.get $tie) (f32x4.eq (local.get $d) (local.get $s))))))
      (else (local.get $k))))

  ;; Colour-table indices of normalised depth, as applyColormap picks them,
  ;; 16 at a time through $quant4 (as calls they ran faster than one inlined
  ;; 4-wide loop, 1.65 against 1.77 ms at 1080p; the f64 loop took 2.5).
  (func $indices (export "indices") (param $src i32) (param $n i32) (param $dst i32) (param $invert i32)
    (local $i i32) (local $end i32) (local $p i32)
    (local.set $end (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
        (v128.store (i32.add (local.get $dst) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (call $quant4 (v128.load (local.get $p)) (local.get $invert)) (call $quant4 (v128.load offset=16 (local.get $p)) (local.get $invert)))
            (i16x8.narrow_i32x4_s (call $quant4 (v128.load offset=32 (local.get $p)) (local.get $invert)) (call $quant4 (v128.load offset=48 (local.get $p)) (local.get $invert)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then (call $indicesTail (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))) (i32.sub (local.get $n) (local.get $i)) (i32.add (local.get $dst) (local.get $i)) (local.get $invert)))))

  ;; yuv.ts's first pass from colour-table indices (an even-sized index
  ;; picture of `n` pixels): the Y plane, and for each pixel pair its Q6
  ;; chroma into the i32 rows at $cu/$cv, through pair tables. The two
  ;; indices of a pair, read as one little-endian u16 ab = a | b << 8, pick
  ;; both Y bytes at once from $tabYY (65536 u16: Y[a] | Y[b] << 8) and both
  ;; chroma values from $tabUV (65536 i32: U | V << 16, each (tabU[a] +
  ;; tabU[b] + 128 << 16 + 1 << 9) >> 10). Three lookups a pair instead of
  ;; six, and no arithmetic: 1.4 ms at 1080p against 2.5.
  (func $yuvRowsFromPairs (export "yuvRowsFromPairs")
    (param $idx i32) (param $n i32) (param $tabYY i32) (param $tabUV i32)
    (param $dstY i32) (param $cuv i32)
    (local $i i32) (local $ab i32)
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $ab (i32.load16_u (i32.add (local.get $idx) (local.get $i))))
        (i32.store16 (i32.add (local.get $dstY) (local.get $i))
          (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
        (i32.store (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
          (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pair))))

  ;; $indices and $yuvRowsFromPairs in one pass, for a picture that needs no
  ;; padding: each 16 indices are looked up while in a register, as 8 pixel
  ;; pairs, instead of being stored and read back. `n` a multiple of 16; the
  ;; caller runs the two passes for the rest.
  (func $yuvRowsFromUnit (export "yuvRowsFromUnit")
    (param $src i32) (param $n i32) (param $invert i32) (param $tabYY i32) (param $tabUV i32) (param $dstY i32) (param $cuv i32)
    (local $i i32) (local $p i32) (local $iv v128) (local $ab i32)
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $iv
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (call $quant4 (v128.load (local.get $p)) (local.get $invert)) (call $quant4 (v128.load offset=16 (local.get $p)) (local.get $invert)))
            (i16x8.narrow_i32x4_s (call $quant4 (v128.load offset=32 (local.get $p)) (local.get $invert)) (call $quant4 (v128.load offset=48 (local.get $p)) (local.get $invert)))))

            (local.set $ab (i16x8.extract_lane_u 0 (local.get $iv)))
            (i32.store16 offset=0 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=0 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 1 (local.get $iv)))
            (i32.store16 offset=2 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=4 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 2 (local.get $iv)))
            (i32.store16 offset=4 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=8 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 3 (local.get $iv)))
            (i32.store16 offset=6 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=12 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 4 (local.get $iv)))
            (i32.store16 offset=8 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=16 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 5 (local.get $iv)))
            (i32.store16 offset=10 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=20 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 6 (local.get $iv)))
            (i32.store16 offset=12 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=24 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
            (local.set $ab (i16x8.extract_lane_u 7 (local.get $iv)))
            (i32.store16 offset=14 (i32.add (local.get $dstY) (local.get $i))
              (i32.load16_u (i32.add (local.get $tabYY) (i32.shl (local.get $ab) (i32.const 1)))))
            (i32.store offset=28 (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
              (i32.load (i32.add (local.get $tabUV) (i32.shl (local.get $ab) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec))))

  ;; The same first pass from packed RGB24 (`n` pixels, rows of even width):
  ;; $coef holds the Q15 matrix as 9 i32 (RY GY BY RU GU BU RV GV BV).
  (func $yuvRowsFromRgb (export "yuvRowsFromRgb")
    (param $rgb i32) (param $n i32) (param $coef i32) (param $dstY i32) (param $cuv i32)
    (local $i i32) (local $p i32) (local $r i32) (local $g i32) (local $b i32) (local $r1 i32) (local $g1 i32) (local $b1 i32)
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.add (local.get $rgb) (i32.mul (local.get $i) (i32.const 3))))
        (local.set $r (i32.load8_u (local.get $p)))
        (local.set $g (i32.load8_u offset=1 (local.get $p)))
        (local.set $b (i32.load8_u offset=2 (local.get $p)))
        (local.set $r1 (i32.load8_u offset=3 (local.get $p)))
        (local.set $g1 (i32.load8_u offset=4 (local.get $p)))
        (local.set $b1 (i32.load8_u offset=5 (local.get $p)))
        ;; Y = (((RY r + GY g + BY b + 16 << 15 + 1 << 8) >> 9) + 32) >> 6
        (i32.store8 (i32.add (local.get $dstY) (local.get $i))
          (i32.shr_s (i32.add (i32.shr_s (i32.add (i32.add (i32.add
            (i32.mul (i32.load (local.get $coef)) (local.get $r))
            (i32.mul (i32.load offset=4 (local.get $coef)) (local.get $g)))
            (i32.mul (i32.load offset=8 (local.get $coef)) (local.get $b)))
            (i32.const 524544)) (i32.const 9)) (i32.const 32)) (i32.const 6)))
        (i32.store8 offset=1 (i32.add (local.get $dstY) (local.get $i))
          (i32.shr_s (i32.add (i32.shr_s (i32.add (i32.add (i32.add
            (i32.mul (i32.load (local.get $coef)) (local.get $r1))
            (i32.mul (i32.load offset=4 (local.get $coef)) (local.get $g1)))
            (i32.mul (i32.load offset=8 (local.get $coef)) (local.get $b1)))
            (i32.const 524544)) (i32.const 9)) (i32.const 32)) (i32.const 6)))
        (local.set $r (i32.add (local.get $r) (local.get $r1)))
        (local.set $g (i32.add (local.get $g) (local.get $g1)))
        (local.set $b (i32.add (local.get $b) (local.get $b1)))
        ;; U in the low half, V in the high one: both are 16..240 in Q6, so positive and below 2^14.
        (i32.store (i32.add (local.get $cuv) (i32.shl (local.get $i) (i32.const 1)))
          (i32.or
            (i32.shr_s (i32.add (i32.add (i32.add
              (i32.mul (i32.load offset=12 (local.get $coef)) (local.get $r))
              (i32.mul (i32.load offset=16 (local.get $coef)) (local.get $g)))
              (i32.mul (i32.load offset=20 (local.get $coef)) (local.get $b)))
              (i32.const 8389120)) (i32.const 10))
            (i32.shl (i32.shr_s (i32.add (i32.add (i32.add
              (i32.mul (i32.load offset=24 (local.get $coef)) (local.get $r))
              (i32.mul (i32.load offset=28 (local.get $coef)) (local.get $g)))
              (i32.mul (i32.load offset=32 (local.get $coef)) (local.get $b)))
              (i32.const 8389120)) (i32.const 10)) (i32.const 16))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pair))))

  ;; yuv.ts's vertical chroma pass: `h` rows of `cw` chroma pairs at $src,
  ;; each pair a u32 of two Q6 samples (U low, V high, as the first passes
  ;; store them), into h / 2 rows of U bytes at $dstU and of V bytes at
  ;; $dstV; output row j is (sum_k taps[k] * row clamp(2j - 3 + k) + 1 << 17)
  ;; >> 18, clamped to 0..255. The 8 taps are symmetric (taps[k] =
  ;; taps[7 - k], as yuv.ts makes them; $taps holds taps[0..3] as i32), so
  ;; rows k and 7 - k are summed first: four products where there were eight,
  ;; the same integer sum. Samples are below 2^14 and taps within i16, so the
  ;; row sums stay in i16 lanes and the products are widened to i32 exactly:
  ;; four U and four V per step.
  (func $chromaColumns (export "chromaColumns") (param $src i32) (param $cw i32) (param $h i32) (param $taps i32) (param $dstU i32) (param $dstV i32)
    (local $j i32) (local $x i32) (local $rowBytes i32) (local $vecEnd i32) (local $o i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $r4 i32) (local $r5 i32) (local $r6 i32) (local $r7 i32)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128) (local $lo v128) (local $hi v128)
    (local $s i32) (local $k i32)
    (local.set $rowBytes (i32.shl (local.get $cw) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $t0 (i16x8.splat (i32.load (local.get $taps))))
    (local.set $t1 (i16x8.splat (i32.load offset=4 (local.get $taps))))
    (local.set $t2 (i16x8.splat (i32.load offset=8 (local.get $taps))))
    (local.set $t3 (i16x8.splat (i32.load offset=12 (local.get $taps))))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (i32.shl (local.get $j) (i32.const 1)) (local.get $h)))
        ;; Row addresses of the 8 taps, clamped into 0..h-1 (replicated edges).
        (local.set $r0 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.sub (i32.shl (local.get $j) (i32.const 1)) (i32.const 3))))
        (local.set $r1 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.sub (i32.shl (local.get $j) (i32.const 1)) (i32.const 2))))
        (local.set $r2 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.sub (i32.shl (local.get $j) (i32.const 1)) (i32.const 1))))
        (local.set $r3 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.shl (local.get $j) (i32.const 1))))
        (local.set $r4 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 1))))
        (local.set $r5 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 2))))
        (local.set $r6 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 3))))
        (local.set $r7 (call $clampRow (local.get $src) (local.get $rowBytes) (local.get $h) (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 4))))
        (local.set $o (i32.mul (local.get $j) (local.get $cw)))
        (local.set $x (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $x) (local.get $vecEnd)))
            (local.set $p0 (i16x8.add (v128.load (i32.add (local.get $r0) (local.get $x))) (v128.load (i32.add (local.get $r7) (local.get $x)))))
            (local.set $p1 (i16x8.add (v128.load (i32.add (local.get $r1) (local.get $x))) (v128.load (i32.add (local.get $r6) (local.get $x)))))
            (local.set $p2 (i16x8.add (v128.load (i32.add (local.get $r2) (local.get $x))) (v128.load (i32.add (local.get $r5) (local.get $x)))))
            (local.set $p3 (i16x8.add (v128.load (i32.add (local.get $r3) (local.get $x))) (v128.load (i32.add (local.get $r4) (local.get $x)))))
            ;; Lanes U0 V0 U1 V1 (low) and U2 V2 U3 V3 (high).
            (local.set $lo (i32x4.shr_s (i32x4.add (i32x4.add (i32x4.add (i32x4.add
              (v128.const i32x4 131072 131072 131072 131072)
              (i32x4.extmul_low_i16x8_s (local.get $p0) (local.get $t0)))
              (i32x4.extmul_low_i16x8_s (local.get $p1) (local.get $t1)))
              (i32x4.extmul_low_i16x8_s (local.get $p2) (local.get $t2)))
              (i32x4.extmul_low_i16x8_s (local.get $p3) (local.get $t3))) (i32.const 18)))
            (local.set $hi (i32x4.shr_s (i32x4.add (i32x4.add (i32x4.add (i32x4.add
              (v128.const i32x4 131072 131072 131072 131072)
              (i32x4.extmul_high_i16x8_s (local.get $p0) (local.get $t0)))
              (i32x4.extmul_high_i16x8_s (local.get $p1) (local.get $t1)))
              (i32x4.extmul_high_i16x8_s (local.get $p2) (local.get $t2)))
              (i32x4.extmul_high_i16x8_s (local.get $p3) (local.get $t3))) (i32.const 18)))
            ;; Saturate to bytes (negatives to 0, above 255 to 255), then U0..U3 V0..V3.
            (local.set $lo (i8x16.shuffle 0 2 4 6 1 3 5 7 0 0 0 0 0 0 0 0
              (i8x16.narrow_i16x8_u (i16x8.narrow_i32x4_s (local.get $lo) (local.get $hi)) (local.get $lo))
              (local.get $lo)))
            (v128.store32_lane 0 (i32.add (local.get $dstU) (i32.add (local.get $o) (i32.shr_u (local.get $x) (i32.const 2)))) (local.get $lo))
            (v128.store32_lane 1 (i32.add (local.get $dstV) (i32.add (local.get $o) (i32.shr_u (local.get $x) (i32.const 2)))) (local.get $lo))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $vec)))
        ;; The last cw % 4 pairs, one sample at a time: U at byte 0, V at byte 2.
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $x) (local.get $rowBytes)))
            (local.set $k (i32.const 0))
            (loop $plane
              (local.set $s (i32.shr_s (i32.add (i32.add (i32.add (i32.add
                (i32.const 131072)
                (i32.mul (i32.load (local.get $taps))
                  (i32.add (i32.load16_u (i32.add (local.get $r0) (i32.add (local.get $x) (local.get $k)))) (i32.load16_u (i32.add (local.get $r7) (i32.add (local.get $x) (local.get $k)))))))
                (i32.mul (i32.load offset=4 (local.get $taps))
                  (i32.add (i32.load16_u (i32.add (local.get $r1) (i32.add (local.get $x) (local.get $k)))) (i32.load16_u (i32.add (local.get $r6) (i32.add (local.get $x) (local.get $k)))))))
                (i32.mul (i32.load offset=8 (local.get $taps))
                  (i32.add (i32.load16_u (i32.add (local.get $r2) (i32.add (local.get $x) (local.get $k)))) (i32.load16_u (i32.add (local.get $r5) (i32.add (local.get $x) (local.get $k)))))))
                (i32.mul (i32.load offset=12 (local.get $taps))
                  (i32.add (i32.load16_u (i32.add (local.get $r3) (i32.add (local.get $x) (local.get $k)))) (i32.load16_u (i32.add (local.get $r4) (i32.add (local.get $x) (local.get $k)))))))
                (i32.const 18)))
              (i32.store8
                (i32.add (select (local.get $dstV) (local.get $dstU) (local.get $k)) (i32.add (local.get $o) (i32.shr_u (local.get $x) (i32.const 2))))
                (select (i32.const 0) (select (i32.const 255) (local.get $s) (i32.gt_s (local.get $s) (i32.const 255))) (i32.lt_s (local.get $s) (i32.const 0))))
              (local.set $k (i32.add (local.get $k) (i32.const 2)))
              (br_if $plane (i32.lt_u (local.get $k) (i32.const 4))))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br $tail)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $row))))

  ;; The flicker meter's comparison of two frames' samples (flicker-meter.ts,
  ;; flickerPair): $n samples as f32 depth at $prevUnit/$unit and R, G, B, 0
  ;; bytes at $prevRgb/$rgb. A sample is still when no channel moved by more
  ;; than 6; the absolute depth changes of still samples are summed when
  ;; finite. Writes the still count (i32), the finite count (i32) and the sum
  ;; (f64, at $out + 8); four samples at a time, the sum in two f64x2 lanes.
  (func $flickerPair (export "flickerPair") (param $prevUnit i32) (param $prevRgb i32) (param $unit i32) (param $rgb i32) (param $n i32) (param $out i32)
    (local $i i32) (local $o i32) (local $a v128) (local $b v128) (local $still v128) (local $d v128) (local $ok v128)
    (local $nStill v128) (local $nOk v128) (local $sum v128) (local $e f64) (local $total f64)
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $a (v128.load (i32.add (local.get $prevRgb) (local.get $o))))
        (local.set $b (v128.load (i32.add (local.get $rgb) (local.get $o))))
        ;; |a - b| per byte, > 6 anywhere in a sample's four bytes: that sample moved.
        (local.set $still (i32x4.eq (v128.const i32x4 0 0 0 0)
          (i8x16.gt_u (i8x16.sub (i8x16.max_u (local.get $a) (local.get $b)) (i8x16.min_u (local.get $a) (local.get $b))) (v128.const i8x16 6 6 6 6 6 6 6 6 6 6 6 6 6 6 6 6))))
        (local.set $nStill (i32x4.sub (local.get $nStill) (local.get $still)))
        ;; The depth change in f64, as the TypeScript loop takes it (exact for two floats);
        ;; d - d is 0 only for finite d (NaN and infinities give NaN). Two samples per half.
        (local.set $a (v128.load (i32.add (local.get $unit) (local.get $o))))
        (local.set $b (v128.load (i32.add (local.get $prevUnit) (local.get $o))))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $b))))
        (local.set $ok (v128.and (i64x2.extend_low_i32x4_s (local.get $still)) (f64x2.eq (f64x2.sub (local.get $d) (local.get $d)) (v128.const f64x2 0 0))))
        (local.set $nOk (i64x2.sub (local.get $nOk) (local.get $ok)))
        (local.set $sum (f64x2.add (local.get $sum) (v128.and (local.get $ok) (f64x2.abs (local.get $d)))))
        (local.set $a (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
        (local.set $b (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b)))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $b))))
        (local.set $ok (v128.and (i64x2.extend_high_i32x4_s (local.get $still)) (f64x2.eq (f64x2.sub (local.get $d) (local.get $d)) (v128.const f64x2 0 0))))
        (local.set $nOk (i64x2.sub (local.get $nOk) (local.get $ok)))
        (local.set $sum (f64x2.add (local.get $sum) (v128.and (local.get $ok) (f64x2.abs (local.get $d)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vec)))
    (local.set $total (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
    (i32.store (local.get $out) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $nStill)) (i32x4.extract_lane 1 (local.get $nStill)))
      (i32.add (i32x4.extract_lane 2 (local.get $nStill)) (i32x4.extract_lane 3 (local.get $nStill)))))
    (i32.store offset=4 (local.get $out) (i32.wrap_i64 (i64.add (i64x2.extract_lane 0 (local.get $nOk)) (i64x2.extract_lane 1 (local.get $nOk)))))
    ;; The last n % 4 samples, one at a time.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $a (i32x4.splat (i32.load (i32.add (local.get $prevRgb) (local.get $o)))))
        (local.set $b (i32x4.splat (i32.load (i32.add (local.get $rgb) (local.get $o)))))
        (if (i32x4.extract_lane 0 (i32x4.eq (v128.const i32x4 0 0 0 0)
              (i8x16.gt_u (i8x16.sub (i8x16.max_u (local.get $a) (local.get $b)) (i8x16.min_u (local.get $a) (local.get $b))) (v128.const i8x16 6 6 6 6 6 6 6 6 6 6 6 6 6 6 6 6))))
          (then
            (i32.store (local.get $out) (i32.add (i32.load (local.get $out)) (i32.const 1)))
            (local.set $e (f64.abs (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $unit) (local.get $o))))
              (f64.promote_f32 (f32.load (i32.add (local.get $prevUnit) (local.get $o)))))))
            (if (f64.eq (f64.sub (local.get $e) (local.get $e)) (f64.const 0))
              (then
                (local.set $total (f64.add (local.get $total) (local.get $e)))
                (i32.store offset=4 (local.get $out) (i32.add (i32.load offset=4 (local.get $out)) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (f64.store offset=8 (local.get $out) (local.get $total)))

  ;; Address of row clamp(y, 0, h - 1).
  (func $clampRow (param $src i32) (param $rowBytes i32) (param $h i32) (param $y i32) (result i32)
    (if (i32.lt_s (local.get $y) (i32.const 0)) (then (local.set $y (i32.const 0))))
    (if (i32.ge_s (local.get $y) (local.get $h)) (then (local.set $y (i32.sub (local.get $h) (i32.const 1)))))
    (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $rowBytes)))))
