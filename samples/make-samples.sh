#!/usr/bin/env bash
# Regenerates the demo samples from ffmpeg's synthetic sources (lavfi), so they carry no
# third-party rights. Uses the bundled ffmpeg unless FFMPEG_PATH is set.
set -euo pipefail
cd "$(dirname "$0")"
FF=${FFMPEG_PATH:-$(node -e "console.log(require('@ffmpeg-installer/ffmpeg').path)")}
common=(-hide_banner -loglevel error -y)
# Landscape 720p, 8 s, with a 440 Hz tone: exercises the ladder (720/480/360) and audio muxing.
"$FF" "${common[@]}" -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=8" -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=8" \
  -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -g 60 -c:a aac -b:a 96k -shortest -movflags +faststart landscape.mp4
# A phone-style clip: stored 640x360 with rotation metadata, displayed as portrait 360x640.
# (This ffmpeg build writes the rotate tag only when stream-copying, hence the second pass.)
"$FF" "${common[@]}" -f lavfi -i "smptehdbars=size=640x360:rate=25:duration=5" -f lavfi -i "sine=frequency=660:sample_rate=44100:duration=5" \
  -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -c:a aac -b:a 64k -shortest portrait.tmp.mp4
"$FF" "${common[@]}" -i portrait.tmp.mp4 -map 0 -c copy -metadata:s:v:0 rotate=90 portrait.mp4
rm portrait.tmp.mp4
# A 2400x1600 "photo": a Mandelbrot render has real detail for the encoders to work on.
"$FF" "${common[@]}" -f lavfi -i "mandelbrot=size=2400x1600:end_pts=1:rate=1" -frames:v 1 -q:v 3 photo.jpg
# A quiet voice-like tone for the loudness-normalised audio preset.
"$FF" "${common[@]}" -f lavfi -i "sine=frequency=300:sample_rate=44100:duration=4,volume=0.05" -c:a libmp3lame -b:a 96k tone.mp3
ls -l
