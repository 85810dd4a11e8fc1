#!/usr/bin/env bash
# Issue 11's measurements on a machine with a GPU, in one run (each step has
# its own time limit so that one slow step cannot eat the others' time):
#   1. which device `--device auto` picks there, and WebGPU's pixels against
#      the CPU provider's on a 1080p clip;
#   2. the 1080p --sync pipeline against bare WebGPU session.run, dpt-tiny;
#   3. the same with the ViT-S/14 graph (dpt-vits14-518);
#   4. where each thread of a 1080p ceiling run spends its time (V8 CPU
#      profiles, summed by function: src/bench/profile-summary.ts), and its
#      rate with 4 and 15 frame workers (frames in flight: 4 + workers);
#   5. the ceiling (analytic model) on all of the machine's cores, with
#      ffmpeg's share of the pipeline from 1 core to all;
#   6. the async (live) schedule on WebGPU with the ViT-S/14 graph, slower
#      than a 30 fps camera: inferences a second against step 3's bare rate,
#      and how many inputs were prepared ahead.
# Run from the project root after `npm run build`; every result also goes to
# $OUT (default /tmp/gpu-bench). Models are generated (untrained) on the spot.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-bench}
mkdir -p "$OUT"
export DEPTH_VIDEO_MODELS=${DEPTH_VIDEO_MODELS:-/tmp/gpu-bench-models}
W=$(mktemp -d)
# DRY=1: the same steps, tiny and short, to check the script on a machine without a GPU.
CLIP=1920x1080; N=10; SMALL=(); CEIL=(); PN=300; ASZ=()
[ -n "${DRY:-}" ] && { CLIP=160x90; N=3; SMALL=(--quick --size 64 --frames 10); CEIL=(--quick); PN=20; ASZ=(--size 70); }
step() { echo; echo "=== $1 ($(date +%T))"; }
ff() { node -e "import('./dist/ffmpeg/binary.js').then(m => process.stdout.write(m.ffmpegPath()))"; }
FF=$(ff)

step "device and agreement"
"$FF" -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=$CLIP:rate=30 -frames:v $N -c:v libx264 -preset veryfast -pix_fmt yuv420p "$W/clip.mp4"
for dev in auto webgpu cpu; do
  timeout 40 node bin/depth-video.js "$W/clip.mp4" --out "$W/$dev.mkv" --model dpt-tiny --device $dev --sync --lossless --colormap gray --json \
    > "$OUT/agree-$dev.json" 2> "$W/$dev.err"; echo "--device $dev: exit $?"
  grep -E '^(device|warning)' "$W/$dev.err" | head -5
  node -e "const s=JSON.parse(require('fs').readFileSync('$OUT/agree-$dev.json','utf8'));console.log(JSON.stringify({device:s.device,frames:s.frames,meanMs:s.meanMs,fps:s.fps}))" 2>/dev/null
done
for dev in webgpu cpu; do "$FF" -hide_banner -loglevel error -i "$W/$dev.mkv" -f rawvideo -pix_fmt gray "$W/$dev.gray"; done
node -e "
const fs=require('fs');const a=fs.readFileSync('$W/webgpu.gray'),b=fs.readFileSync('$W/cpu.gray');
let worst=0,diff=0;for(let i=0;i<a.length;i++){const d=Math.abs(a[i]-b[i]);if(d){diff++;if(d>worst)worst=d;}}
console.log('webgpu vs cpu, gray levels over '+a.length+' pixels (sizes '+a.length+'/'+b.length+'): max |diff| '+worst+', pixels differing '+(100*diff/a.length).toFixed(4)+'%');" | tee "$OUT/agree.txt"

step "dpt-tiny on webgpu: 640x360 and 1080p pipeline vs bare"
timeout 170 node dist/bench/main.js --device webgpu --model dpt-tiny --only pipeline "${SMALL[@]}" 2>&1 | tee "$OUT/bench-dpt-tiny.txt"

step "dpt-vits14-518 on webgpu: 1080p pipeline vs bare"
timeout 120 node dist/bench/main.js --device webgpu --model dpt-vits14-518 --only pipeline --frames 40 "${SMALL[@]}" 2>&1 | tee "$OUT/bench-vits14.txt"

step "threads of a 1080p ceiling run ($PN frames, analytic model, $(nproc) cores)"
"$FF" -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=$CLIP:rate=30 -frames:v $PN -c:v libx264 -preset veryfast -pix_fmt yuv420p "$W/ceil.mp4"
timeout 45 node --cpu-prof --cpu-prof-dir="$OUT/profile" bin/depth-video.js "$W/ceil.mp4" --out "$W/ceil-depth.mp4" --model analytic \
  --size 384 --keep-aspect --multiple-of 32 --sync --no-audio --json -q > "$OUT/profile-run.json"; echo "exit $?"
node -e "const s=JSON.parse(require('fs').readFileSync('$OUT/profile-run.json','utf8'));console.log(JSON.stringify({fps:s.fps,workers:s.workers,meanMs:s.meanMs}))"
node dist/bench/profile-summary.js "$OUT/profile" $PN | tee "$OUT/profile.txt"
# Frames alive at once in --sync are 4 + the frame workers: if the rate
# follows the worker count while the threads above sit idle, the wall is
# latency (frames in flight), not work.
for wk in 4 15; do
  timeout 30 node bin/depth-video.js "$W/ceil.mp4" --out "$W/ceil-depth.mp4" --overwrite --model analytic --size 384 --keep-aspect --multiple-of 32 \
    --sync --no-audio --json -q --workers $wk > "$W/wk.json"; echo "--workers $wk: exit $?"
  node -e "const s=JSON.parse(require('fs').readFileSync('$W/wk.json','utf8'));console.log(JSON.stringify({workers:s.workers,fps:s.fps,meanMs:s.meanMs}))"
done | tee "$OUT/workers.txt"

step "ceiling on $(nproc) cores"
timeout 150 node dist/bench/main.js --only ceiling "${CEIL[@]}" 2>&1 | tee "$OUT/bench-ceiling.txt"

step "async schedule on webgpu: dpt-vits14-518, a 1080p clip paced as a 30 fps camera"
"$FF" -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=$CLIP:rate=30 -frames:v $((PN / 2)) -c:v libx264 -preset veryfast -pix_fmt yuv420p "$W/cam.mp4"
timeout 25 node bin/depth-video.js "$W/cam.mp4" --out "$W/cam-depth.mp4" --model dpt-vits14-518 --device webgpu "${ASZ[@]}" --no-audio --json -q > "$OUT/async.json"; echo "exit $?"
node -e "const s=JSON.parse(require('fs').readFileSync('$OUT/async.json','utf8'));console.log(JSON.stringify({frames:s.frames,inferredPerS:s.frames.inferred/(s.wallMs/1000),meanMs:s.meanMs}))" | tee "$OUT/async.txt"

step "done"
rm -rf "$W"
