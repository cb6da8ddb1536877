// The CPU's float32 multiply-add peak on one thread, as benchmarks/bench_render.py measures it beside torch's sgemm:
// CHAINS independent chains of vector multiply-adds (enough to cover the FMA units' latency), nothing read from or
// written to memory in the loop. Built with the flags of neuromv/network/fused.py.

#include <cstdint>

namespace {
constexpr int LANES = 16;
constexpr int CHAINS = 12;
typedef float lanes __attribute__((vector_size(LANES * sizeof(float))));
}  // namespace

extern "C" {

// Runs `rounds` rounds of CHAINS x LANES multiply-adds (2 FLOP each) and returns a sum, so that nothing is optimised
// away; the FLOP done are rounds * CHAINS * LANES * 2.
float neuromv_fma_peak(int64_t rounds, float scale) {
    lanes acc[CHAINS];
    for (int c = 0; c < CHAINS; ++c) acc[c] = lanes{} + (0.001f * (c + 1));
    const lanes a = lanes{} + scale, b = lanes{} + (1.0f - scale);
    for (int64_t r = 0; r < rounds; ++r)
        for (int c = 0; c < CHAINS; ++c) acc[c] = acc[c] * a + b;
    float total = 0.0f;
    for (int c = 0; c < CHAINS; ++c)
        for (int l = 0; l < LANES; ++l) total += acc[c][l];
    return total;
}

int neuromv_fma_chains() { return CHAINS * LANES; }
}
