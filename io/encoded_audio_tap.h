#pragma once
// The encoder's packets decoded on a thread of their own while the file is being written:
// what a player will hear from the file, known when the encode ends rather than after
// reading the whole file back (the render's check of the delivered file ran after the
// encode, on one core, while the other sat idle).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "io/encoder.h"
#include "io/ffmpeg_util.h"

namespace sy::io {

class EncodedAudioTap {
 public:
  // `encoder` is open; its packets come to put() in `time_base`.
  EncodedAudioTap(const AVCodecContext& encoder, AVRational time_base, DecodedAudioFn listen);
  // Without finish(): stops the thread, what it decoded is dropped.
  ~EncodedAudioTap();
  EncodedAudioTap(const EncodedAudioTap&) = delete;
  EncodedAudioTap& operator=(const EncodedAudioTap&) = delete;

  // Hands a copy of `packet` to the thread. `coded_frames`: the samples given to the encoder
  // so far; a packet never decodes to samples past them, and what lies past them at the end
  // is the encoder's padding, which the file's own header trims away. Rethrows the thread's
  // error once it has failed.
  void put(const AVPacket& packet, std::int64_t coded_frames);
  // After the encoder's last packet: waits until all is decoded and handed to `listen`;
  // rethrows the thread's error.
  void finish(std::int64_t coded_frames);

 private:
  struct Item {
    ffmpeg::PacketPtr packet;  // null: the end
    std::int64_t coded_frames;
  };
  void run();
  void decode(const AVPacket* packet, std::int64_t coded_frames);
  void hand_over(const AVFrame& frame, std::int64_t coded_frames);

  DecodedAudioFn listen_;
  ffmpeg::CodecContextPtr decoder_;
  ffmpeg::SwrPtr swr_;
  ffmpeg::FramePtr frame_;
  int out_rate_;
  std::int64_t priming_;       // the encoder's leading samples still to drop
  bool first_packet_ = true;
  std::int64_t position_ = 0;  // samples handed over so far, at the codec's rate
  std::vector<float> left_, right_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::atomic<bool> stopping_ = false;  // also read between the packets of a batch
  bool failed_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace sy::io
