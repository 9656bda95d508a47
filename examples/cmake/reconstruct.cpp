// reconstruct.cpp — the convolutional autoencoder (models/autoencoder.onnx), compiled
// into a C++ program by dlc_add_model: the generated header is C with extern "C" guards.
//
//   reconstruct IMAGE.npy [REFERENCE.npy]
//
// Reads one image, prints how far the reconstruction is from it, and, given another
// implementation's reconstruction (ONNX Runtime, say), exits 1 unless every value
// agrees within 1e-4.
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autoencoder.h" // generated
#include "dlcrt.h"       // rt_npy_read

namespace {

std::vector<float> read_values(const std::string &path, int64_t want) {
  RtTensor t{};
  DlcErr e;
  if (rt_npy_read(path.c_str(), &t, &e)) throw std::runtime_error(e.msg);
  std::unique_ptr<RtTensor, void (*)(RtTensor *)> own(&t, rt_tensor_free);
  if (t.dtype != RT_F32 || rt_tensor_numel(&t) != want)
    throw std::runtime_error(path + ": expected " + std::to_string(want) + " f32 values");
  const float *p = static_cast<const float *>(t.data);
  return std::vector<float>(p, p + want);
}

// The model, freed on every path out.
class Autoencoder {
public:
  Autoencoder() {
    if (int st = autoencoder_init(&m_, nullptr)) throw std::runtime_error(autoencoder_strerror(st));
  }
  ~Autoencoder() { autoencoder_free(m_); }
  Autoencoder(const Autoencoder &) = delete;
  Autoencoder &operator=(const Autoencoder &) = delete;
  std::vector<float> operator()(const std::vector<float> &x) {
    std::vector<float> y(AUTOENCODER_Y_SIZE);
    if (int st = autoencoder_infer(m_, x.data(), y.data())) throw std::runtime_error(autoencoder_strerror(st));
    return y;
  }

private:
  autoencoder *m_ = nullptr;
};

} // namespace

int main(int argc, char **argv) try {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: reconstruct IMAGE.npy [REFERENCE.npy]\n");
    return 2;
  }
  std::vector<float> x = read_values(argv[1], AUTOENCODER_X_SIZE);
  Autoencoder model;
  std::vector<float> y = model(x);
  double err = 0;
  for (size_t i = 0; i < y.size(); i++) err += (y[i] - x[i]) * (y[i] - x[i]);
  std::printf("reconstruction: mean squared error %.6f over %zu values\n", err / double(y.size()), y.size());
  if (argc < 3) return 0;
  std::vector<float> ref = read_values(argv[2], AUTOENCODER_Y_SIZE);
  int bad = 0;
  for (size_t i = 0; i < y.size(); i++) bad += !(std::fabs(y[i] - ref[i]) <= 1e-4f + 1e-4f * std::fabs(ref[i]));
  std::printf("%s: %d of %zu values differ from %s\n", bad ? "FAIL" : "ok", bad, y.size(), argv[2]);
  return bad ? 1 : 0;
} catch (const std::exception &ex) {
  std::fprintf(stderr, "reconstruct: %s\n", ex.what());
  return 1;
}
