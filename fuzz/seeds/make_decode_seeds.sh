#!/usr/bin/env bash
# Writes the seeds of fuzz_decode: a fraction of a second of tone in each container and codec
# family the demux allowlist takes, 8 to 48 kHz, mono to 5.1, two with tags and a cover, each
# a few KB so the fuzzer mutates headers rather than audio. Usage: make_decode_seeds.sh OUT_DIR
set -euo pipefail
out=$1
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
tone() { echo "sine=f=440:r=$1:d=$2"; }

ff -f lavfi -i "$(tone 8000 0.25)" -ac 1 -c:a pcm_s16le "$out/tone-8k-mono.wav"
ff -f lavfi -i "$(tone 44100 0.02)" -ac 2 -c:a pcm_s16le "$out/tone-44k-stereo.wav"
ff -f lavfi -i "$(tone 22050 0.3)" -ac 1 -c:a libmp3lame -b:a 32k -metadata title=Seed \
   -metadata artist=SurroundYou "$out/tone.mp3"
ff -f lavfi -i "$(tone 8000 0.3)" -ac 1 -c:a flac "$out/tone.flac"
ff -f lavfi -i "$(tone 48000 0.2)" -ac 1 -c:a libopus -b:a 12k "$out/tone.opus"
ff -f lavfi -i "$(tone 8000 0.3)" -ac 1 -c:a libvorbis -q:a 0 "$out/tone.ogg"
ff -f lavfi -i "$(tone 8000 0.3)" -ac 1 -c:a aac -b:a 16k "$out/tone.m4a"
ff -f lavfi -i "$(tone 8000 0.2)" -ac 1 -c:a pcm_s16be "$out/tone.aiff"
ff -f lavfi -i "$(tone 8000 0.2)" -ac 1 -c:a libopus -b:a 8k "$out/tone.webm"
ff -f lavfi -i "$(tone 8000 0.2)" -ac 1 -c:a pcm_mulaw "$out/tone.au"
ff -f lavfi -i "$(tone 8000 0.2)" -ac 1 -c:a wavpack "$out/tone.wv"
ff -f lavfi -i "$(tone 8000 0.2)" -ac 1 -c:a alac "$out/tone-alac.caf"
ff -f lavfi -i "$(tone 48000 0.1)" -ac 6 -c:a ac3 -b:a 64k "$out/tone-5.1.ac3"
ff -f lavfi -i "color=c=red:s=8x8:d=1" -frames:v 1 "$tmp/cover.png"
ff -f lavfi -i "$(tone 22050 0.2)" -i "$tmp/cover.png" -map 0 -map 1 -ac 1 -c:a libmp3lame \
   -b:a 32k -c:v copy -id3v2_version 3 -metadata:s:v title="Album cover" \
   -metadata:s:v comment="Cover (front)" -disposition:v attached_pic -metadata album=Seeds \
   "$out/cover.mp3"
ff -f lavfi -i "$(tone 8000 0.2)" -i "$tmp/cover.png" -map 0 -map 1 -ac 1 -c:a flac -c:v copy \
   -disposition:v attached_pic "$out/cover.flac"

# FFmpeg's FLAC muxer reserves 8 KiB of PADDING; drop that block so the seeds stay small.
python3 - "$out/tone.flac" "$out/cover.flac" <<'PY'
import sys
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    pos, blocks = 4, []
    while True:
        header, length = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
        blocks.append((header & 0x7F, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
        if header & 0x80:
            break
    blocks = [b for b in blocks if b[0] != 1]
    out = b"fLaC"
    for i, (kind, body) in enumerate(blocks):
        out += bytes([kind | (0x80 if i == len(blocks) - 1 else 0)]) + len(body).to_bytes(3, "big") + body
    open(name, "wb").write(out + data[pos:])
PY
