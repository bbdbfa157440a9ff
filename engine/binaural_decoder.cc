#include "engine/binaural_decoder.h"

namespace sy::engine {

BinauralDecoder::BinauralDecoder(const BinauralFilters& filters, std::size_t block)
    : convolver_(block, filters.channel_filters.size(), 2), sums_(2, block) {
  for (std::size_t k = 0; k < filters.channel_filters.size(); ++k)
    convolver_.set_filter(ambisonic_channel_is_odd(filters.basis, k) ? 1 : 0, k, filters.channel_filters[k]);
}

void BinauralDecoder::reset() noexcept { convolver_.reset(); }

void BinauralDecoder::process(ConstAudioView sh, AudioView ears) noexcept {
  convolver_.process(sh, sums_.view());
  const std::size_t n = convolver_.block();
  const float* even = sums_.channel(0);
  const float* odd = sums_.channel(1);
  float* left = ears.channel(0);
  float* right = ears.channel(1);
  for (std::size_t i = 0; i < n; ++i) {
    left[i] = even[i] + odd[i];
    right[i] = even[i] - odd[i];
  }
}

}  // namespace sy::engine
