// The CPPN's head fused for a CPU: first-layer pre-activations -> tanh -> hidden layers -> sigmoid RGB, one tile of
// LANES pixels at a time, every activation of the tile kept in a few kilobytes of stack (registers and L1), never
// written to memory between layers. Compiled once per machine by neuromv/network/fused.py (HIDDEN, the network's
// width, is fixed at compile time, so that every loop has a known trip count and unrolls).
//
// The pixels of a tile are the lanes of one vector: each lane runs exactly the per-pixel arithmetic, so a frame's
// pixel is the same whichever tile, frame batch or thread draws it. The compiler's vector extension maps a vector to
// the machine's registers (one AVX-512 register, two AVX2 ones, four NEON ones).

#include <cstdint>

#ifndef HIDDEN
#error "compile with -DHIDDEN=<the network's hidden width>"
#endif

namespace {

constexpr int LANES = 16;
constexpr int BLOCK = HIDDEN % 16 == 0 ? 16 : HIDDEN % 8 == 0 ? 8 : HIDDEN % 4 == 0 ? 4 : 1;  // outputs at once
typedef float lanes __attribute__((vector_size(LANES * sizeof(float))));

// tanh(x) = x P(x^2) / Q(x^2) on |x| <= 9 (beyond it tanh is 1 to float precision): a rational minimax fit of
// neuromv's own (scripts/fit_tanh.py), at most 3.6e-7 from tanh in float32 (torch's own tanh and its sigmoid form
// differ by 1.8e-7).
constexpr float LIMIT = 9.0f;
constexpr float P0 = 0.9999998807907104f, P1 = 0.13373246788978577f, P2 = 0.0034866398200392723f,
                P3 = 2.0472773030633107e-05f, P4 = 1.318551046125549e-08f;
constexpr float Q1 = 0.4670654237270355f, Q2 = 0.025842200964689255f, Q3 = 0.00032714795088395476f,
                Q4 = 7.703194455643825e-07f;

inline lanes splat(float value) { return lanes{} + value; }

inline lanes tanh_lanes(lanes x) {
    x = x > LIMIT ? splat(LIMIT) : x;
    x = x < -LIMIT ? splat(-LIMIT) : x;
    const lanes s = x * x;
    const lanes p = (((P4 * s + P3) * s + P2) * s + P1) * s + P0;
    const lanes q = (((Q4 * s + Q3) * s + Q2) * s + Q1) * s + 1.0f;
    return x * p / q;
}

// One layer: out[j] = tanh(bias[j] + sum_i weight[i][j] in[i]), weight stored [in][out].
inline void layer(const lanes* in, lanes* out, const float* weight, const float* bias) {
    for (int j0 = 0; j0 < HIDDEN; j0 += BLOCK) {
        lanes acc[BLOCK];
        for (int k = 0; k < BLOCK; ++k) acc[k] = splat(bias[j0 + k]);
        for (int i = 0; i < HIDDEN; ++i) {
            const lanes v = in[i];
            const float* w = weight + i * HIDDEN + j0;
            for (int k = 0; k < BLOCK; ++k) acc[k] += w[k] * v;
        }
        for (int k = 0; k < BLOCK; ++k) out[j0 + k] = tanh_lanes(acc[k]);
    }
}

}  // namespace

extern "C" {

// The width this library was compiled for (the loader checks it).
int neuromv_head_hidden() { return HIDDEN; }

// Frames 0 .. frames-1, pixels first .. first + count - 1 (first a multiple of LANES):
//   coord   [tiles][HIDDEN][LANES]  the coordinate term, packed a tile at a time (tile t holds pixels t*LANES ...)
//   latent  [frames][HIDDEN]        each frame's latent term
//   weights [layers][HIDDEN][HIDDEN] the hidden layers' weights, [in][out]; biases [layers][HIDDEN]
//   out_w   [3][HIDDEN], out_b [3]  the output layer
//   rgb     [frames][count][3]      written: sigmoid RGB in (0, 1)
void neuromv_head(const float* coord, const float* latent, int64_t frames, int64_t first, int64_t count,
                  const float* weights, const float* biases, int64_t layers, const float* out_w, const float* out_b,
                  float* rgb) {
    lanes a[HIDDEN], b[HIDDEN];
    const int64_t end = first + count;
    for (int64_t tile = first / LANES; tile * LANES < end; ++tile) {
        const lanes* packed = reinterpret_cast<const lanes*>(coord) + tile * HIDDEN;
        const int64_t start = tile * LANES;
        const int64_t from = start < first ? first - start : 0;
        const int64_t to = start + LANES > end ? end - start : LANES;
        for (int64_t f = 0; f < frames; ++f) {
            const float* z = latent + f * HIDDEN;
            for (int i = 0; i < HIDDEN; ++i) a[i] = tanh_lanes(packed[i] + z[i]);
            lanes* h = a;
            lanes* spare = b;
            for (int64_t l = 0; l < layers; ++l) {
                layer(h, spare, weights + l * HIDDEN * HIDDEN, biases + l * HIDDEN);
                lanes* was = h;
                h = spare;
                spare = was;
            }
            lanes colour[3];
            for (int c = 0; c < 3; ++c) {
                lanes acc = splat(out_b[c]);
                for (int i = 0; i < HIDDEN; ++i) acc += out_w[c * HIDDEN + i] * h[i];
                colour[c] = 0.5f + 0.5f * tanh_lanes(0.5f * acc);  // the sigmoid
            }
            float* row = rgb + (f * count + start - first) * 3;
            for (int64_t p = from; p < to; ++p) {
                row[3 * p] = colour[0][p];
                row[3 * p + 1] = colour[1][p];
                row[3 * p + 2] = colour[2][p];
            }
        }
    }
}

}  // extern "C"
