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
  Block* acquire() { return take(free_, /*ends_when_finished=*/false); }
  void push(Block* b) { put(full_, b); }
  // Consumer: the next filled block, or nullptr once the producer finished and all were taken.
  Block* pop() { return take(full_, /*ends_when_finished=*/true); }
  void release(Block* b) { put(free_, b); }
  // The producer is done (normally).
  void finish() { raise(finished_); }
  // Either side gives up: wakes everyone, all further calls return nullptr.
  void close() { raise(closed_); }

 private:
  // Every change happens under mu_ and wakes both sides: each waits for its own list.
  Block* take(std::deque<Block*>& from, bool ends_when_finished) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !from.empty() || closed_ || (ends_when_finished && finished_); });
    if (closed_ || from.empty()) return nullptr;
    Block* b = from.front();
    from.pop_front();
    return b;
  }
  void put(std::deque<Block*>& to, Block* b) {
    { std::lock_guard<std::mutex> lock(mu_); to.push_back(b); }
    cv_.notify_all();
  }
  void raise(bool& flag) {
    { std::lock_guard<std::mutex> lock(mu_); flag = true; }
    cv_.notify_all();
  }

  std::vector<Block> storage_;
  std::deque<Block*> free_, full_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false, closed_ = false;
};

}  // namespace sy::pipeline
