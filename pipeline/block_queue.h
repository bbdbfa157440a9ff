#pragma once
// A bounded hand-off of fixed-size stereo blocks between two threads of a render (decoder to
// engine, engine to meter, spilled mix to encoder; see render.cc). All blocks are allocated
// up front and circulate between the free and full lists; callers copy audio in and out.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "engine/audio_buffer.h"

namespace sy::pipeline {

class BlockQueue {
 public:
  struct Block {
    engine::AudioBuffer audio;
    std::size_t frames = 0;
  };

  BlockQueue(std::size_t blocks, std::size_t frames_per_block) {
    storage_.reserve(blocks);
    for (std::size_t i = 0; i < blocks; ++i) {
      storage_.push_back(Block{engine::AudioBuffer(2, frames_per_block), 0});
      free_.push_back(&storage_.back());
    }
  }

  // Producer: an empty block to fill, or nullptr when the queue was closed.
  Block* acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || closed_; });
    if (closed_) return nullptr;
    Block* b = free_.front();
    free_.pop_front();
    return b;
  }
  void push(Block* b) {
    { std::lock_guard<std::mutex> lock(mu_); full_.push_back(b); }
    cv_.notify_all();
  }
  // Consumer: the next filled block, or nullptr once the producer finished and all were taken.
  Block* pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || finished_ || closed_; });
    if (closed_ || full_.empty()) return nullptr;
    Block* b = full_.front();
    full_.pop_front();
    return b;
  }
  void release(Block* b) {
    { std::lock_guard<std::mutex> lock(mu_); free_.push_back(b); }
    cv_.notify_all();
  }
  // The producer is done (normally).
  void finish() {
    { std::lock_guard<std::mutex> lock(mu_); finished_ = true; }
    cv_.notify_all();
  }
  // Either side gives up: wakes everyone, all further calls return nullptr.
  void close() {
    { std::lock_guard<std::mutex> lock(mu_); closed_ = true; }
    cv_.notify_all();
  }

 private:
  std::vector<Block> storage_;
  std::deque<Block*> free_, full_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false, closed_ = false;
};

}  // namespace sy::pipeline
