/*===- mlp_trainer.c - An MLP on Fashion-MNIST through a muir package ----===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * A complete C trainer embedding a muir package through the C runtime:
 * the package initialises the weights, states every forward multiplier and
 * runs the fused optimizer step; this file reads Fashion-MNIST, runs the
 * forward and backward pass with OpenBLAS and nothing else. No scaling
 * constant lives here: change the scheme, the width or the depth by
 * packaging again (muirc package --card ... --scheme ...).
 *
 * The model is the mlp card family (lib/Import/ModelCard.cpp):
 *
 *   h0 = relu(W0 x + b0)
 *   plain blocks:     h = relu(W_l h + b_l)
 *   residual blocks:  h = h + r_l (W_l relu(h) + b_l)   (the package has a
 *                                                         residual branch)
 *   logits = Wo h + bo, loss = mean cross-entropy
 *
 * with W = multiplier * w at every use (muir_param_info_t.multiplier) and
 * r_l = muir_residual_info_t.multiplier[l]. The gradient handed to the step
 * is dL/dw = multiplier * dL/dW.
 *
 * Data order, standardisation and schedule are python/muir/transfer's
 * (data.py, runner.py): splitmix64 Fisher-Yates per epoch, (p/255 - 0.2860)
 * / 0.3530, linear warmup then constant, cosine or linear decay. So from the
 * same package and seed this trainer and `python3 -m muir.transfer train`
 * print the same losses up to float32 rounding
 * (test/Transfer/c-trainer.py).
 *
 *===----------------------------------------------------------------------===*/

#include "muir/runtime.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FEATURES 784

static void usage(FILE *out) {
  fprintf(out,
          "usage: mlp_trainer PACKAGE [options]\n"
          "Trains the package's MLP (muirc package --card <mlp card>) on\n"
          "Fashion-MNIST and prints one loss per step.\n"
          "  --data DIR        Fashion-MNIST idx files (default\n"
          "                    /usr/share/datasets/fashion-mnist)\n"
          "  --steps N         training steps (default 100)\n"
          "  --batch N         batch size (default 128)\n"
          "  --seed N          init and data-order seed (default 0)\n"
          "  --lr X            base learning rate: the factor on the "
          "package's\n"
          "                    per-tensor rates (default 1)\n"
          "  --schedule S      constant | cosine | linear (default cosine)\n"
          "  --warmup N        linear warmup steps (default 0)\n"
          "  --zero-readout    zero readout.weight after init\n"
          "  --eval N          held-out loss on the first N test images at "
          "the end\n"
          "                    (default 0: none)\n");
}

static int fail(const char *what) {
  fprintf(stderr, "mlp_trainer: error: %s\n", what);
  return 1;
}

static int fail_muir(const char *what) {
  fprintf(stderr, "mlp_trainer: error: %s: %s\n", what, muir_last_error());
  return 1;
}

/*===- Data -------------------------------------------------------------===*/

typedef struct {
  int64_t count, features;
  uint8_t *pixels;
  uint8_t *labels;
} dataset_t;

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* Reads a gzip'd idx file with `dims` dimensions and magic 0x800 + dims;
 * returns its payload and the product of the dims after the first in
 * *inner, or NULL after printing why. */
static uint8_t *read_idx(const char *path, int dims, int64_t *count,
                         int64_t *inner) {
  gzFile f = gzopen(path, "rb");
  if (!f) {
    fprintf(stderr,
            "mlp_trainer: error: %s: %s (install Debian's "
            "dataset-fashion-mnist or pass --data)\n",
            path, strerror(errno ? errno : ENOENT));
    return NULL;
  }
  uint8_t header[16];
  int want = 4 + 4 * dims;
  if (gzread(f, header, want) != want || be32(header) != 0x800u + dims) {
    fprintf(stderr, "mlp_trainer: error: %s: not an idx file of %d dims\n",
            path, dims);
    gzclose(f);
    return NULL;
  }
  *count = be32(header + 4);
  *inner = 1;
  for (int d = 1; d < dims; ++d)
    *inner *= be32(header + 4 + 4 * d);
  int64_t bytes = *count * *inner;
  uint8_t *data = malloc(bytes ? bytes : 1);
  if (!data || gzread(f, data, (unsigned)bytes) != bytes) {
    fprintf(stderr,
            "mlp_trainer: error: %s: truncated (%lld bytes "
            "expected)\n",
            path, (long long)bytes);
    free(data);
    gzclose(f);
    return NULL;
  }
  gzclose(f);
  return data;
}

static int load(const char *dir, const char *prefix, dataset_t *out) {
  char path[4096];
  int64_t n_labels, one;
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
  out->pixels = read_idx(path, 3, &out->count, &out->features);
  if (!out->pixels)
    return 1;
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  out->labels = read_idx(path, 1, &n_labels, &one);
  if (!out->labels)
    return 1;
  if (n_labels != out->count || out->features != FEATURES) {
    fprintf(stderr,
            "mlp_trainer: error: %s/%s-*: %lld images of %lld "
            "pixels and %lld labels (expected 784 pixels each)\n",
            dir, prefix, (long long)out->count, (long long)out->features,
            (long long)n_labels);
    return 1;
  }
  return 0;
}

/* data.py's SplitMix64 and permutation(). */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void permutation(int64_t *perm, int64_t n, uint64_t seed,
                        uint64_t epoch) {
  uint64_t state = ((seed & 0xFFFFFFFFull) << 32) + epoch;
  for (int64_t i = 0; i < n; ++i)
    perm[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = (int64_t)(splitmix64(&state) % (uint64_t)(i + 1));
    int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

/* data.py's standardise(): the same float32 operations in the same order. */
static void standardise(const uint8_t *pixels, float *x) {
  for (int k = 0; k < FEATURES; ++k)
    x[k] = ((float)pixels[k] / 255.0f - 0.2860f) / 0.3530f;
}

/*===- The model --------------------------------------------------------===*/

/* One parameter as the forward pass uses it: the stored copies, their
 * gradients and multipliers, and a scratch copy of multiplier * w. */
typedef struct {
  const muir_param_info_t *info;
  float *w, *g;  /* copy 0 in the params and grads buffers */
  float *scaled; /* numel floats: multiplier[l] * w_l of the current use */
} param_t;

static int find(const muir_package_t *pkg, const muir_package_info_t *info,
                const char *name, int required, float *params, float *grads,
                param_t *out) {
  int64_t index;
  memset(out, 0, sizeof *out);
  if (muir_package_find_param(pkg, name, &index) != MUIR_OK) {
    if (!required)
      return 0;
    fprintf(stderr,
            "mlp_trainer: error: the package has no %s: is it an "
            "mlp card's package?\n",
            name);
    return 1;
  }
  out->info = &info->params[index];
  out->w = params + out->info->offset;
  out->g = grads + out->info->offset;
  out->scaled = malloc(sizeof(float) * out->info->numel);
  return out->scaled ? 0 : fail("out of memory");
}

/* multiplier[l] * w_l, as torch computes (m * w) before using it. */
static const float *use(param_t *p, int64_t l) {
  const float *w = p->w + l * p->info->stride;
  float m = (float)p->info->multiplier[l];
  for (int64_t i = 0; i < p->info->numel; ++i)
    p->scaled[i] = m * w[i];
  return p->scaled;
}

/* dL/dw_l = multiplier[l] * dL/dW. */
static void store_grad(param_t *p, int64_t l, const float *dW) {
  float *g = p->g + l * p->info->stride;
  float m = (float)p->info->multiplier[l];
  for (int64_t i = 0; i < p->info->numel; ++i)
    g[i] = dW[i] * m;
}

/* out[b, :] = x[b, :] W^T + bias  (x: rows x in, W: outs x in). */
static void linear(const float *x, const float *W, const float *bias,
                   int64_t rows, int64_t in, int64_t outs, float *out) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)outs,
              (int)in, 1.0f, x, (int)in, W, (int)in, 0.0f, out, (int)outs);
  if (bias)
    for (int64_t b = 0; b < rows; ++b)
      for (int64_t j = 0; j < outs; ++j)
        out[b * outs + j] += bias[j];
}

/* dW = dy^T x (outs x in), db = column sums of dy. */
static void weight_grad(const float *dy, const float *x, int64_t rows,
                        int64_t in, int64_t outs, float *dW, float *db) {
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)outs, (int)in,
              (int)rows, 1.0f, dy, (int)outs, x, (int)in, 0.0f, dW, (int)in);
  if (db)
    for (int64_t j = 0; j < outs; ++j) {
      float s = 0.0f;
      for (int64_t b = 0; b < rows; ++b)
        s += dy[b * outs + j];
      db[j] = s;
    }
}

/* dx = dy W (rows x in). */
static void input_grad(const float *dy, const float *W, int64_t rows,
                       int64_t in, int64_t outs, float *dx) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)in,
              (int)outs, 1.0f, dy, (int)outs, W, (int)in, 0.0f, dx, (int)in);
}

typedef struct {
  param_t w0, b0, w, b, wo, bo;
  const double *residual; /* per block, NULL for plain blocks */
  int64_t hidden, classes, blocks;
  /* Activations of one batch: z0 (pre-relu input layer), h[l] for l in
   * 0..blocks (h[0] = relu(z0)), a[l] = the block's input to its linear
   * (relu(h[l]) residual, h[l] plain), z[l] its pre-activation, logits. */
  float *z0, *h, *a, *z, *logits;
  float *dh, *dz, *dtmp, *dW, *db;
} mlp_t;

static int mlp_open(const muir_package_t *pkg, float *params, float *grads,
                    int64_t batch, mlp_t *m) {
  const muir_package_info_t *info;
  if (muir_package_get_info(pkg, &info) != MUIR_OK)
    return fail_muir("package info");
  memset(m, 0, sizeof *m);
  if (find(pkg, info, "input.weight", 1, params, grads, &m->w0) ||
      find(pkg, info, "input.bias", 0, params, grads, &m->b0) ||
      find(pkg, info, "hidden.weight", 1, params, grads, &m->w) ||
      find(pkg, info, "hidden.bias", 0, params, grads, &m->b) ||
      find(pkg, info, "readout.weight", 1, params, grads, &m->wo) ||
      find(pkg, info, "readout.bias", 0, params, grads, &m->bo))
    return 1;
  m->hidden = m->w0.info->shape[0];
  m->classes = m->wo.info->shape[0];
  m->blocks = m->w.info->copies;
  if (m->w0.info->shape[1] != FEATURES)
    return fail("input.weight does not read 784 features");
  if (info->num_residuals > 1)
    return fail("more than one residual branch: not an mlp card's package");
  m->residual = info->num_residuals ? info->residuals[0].multiplier : NULL;
  int64_t B = batch, H = m->hidden, L = m->blocks;
  size_t acts = (size_t)B * H;
  m->z0 = malloc(sizeof(float) * acts);
  m->h = malloc(sizeof(float) * acts * (L + 1));
  m->a = malloc(sizeof(float) * acts * L);
  m->z = malloc(sizeof(float) * acts * L);
  m->logits = malloc(sizeof(float) * B * m->classes);
  m->dh = malloc(sizeof(float) * acts);
  m->dz = malloc(sizeof(float) * acts);
  m->dtmp = malloc(sizeof(float) * acts);
  size_t widest = (size_t)H * (H > FEATURES ? H : FEATURES);
  m->dW = malloc(sizeof(float) * widest);
  m->db = malloc(sizeof(float) * (H > m->classes ? H : m->classes));
  if (!m->z0 || !m->h || !m->a || !m->z || !m->logits || !m->dh || !m->dz ||
      !m->dtmp || !m->dW || !m->db)
    return fail("out of memory for the activations");
  return 0;
}

static const float *bias_use(param_t *p, int64_t l) {
  return p->info ? use(p, l) : NULL;
}

/* The forward pass; returns the mean cross-entropy, and with `backward`
 * writes dL/dw of every parameter into the grads buffer. */
static double mlp_step(mlp_t *m, const float *x, const int64_t *y, int64_t B,
                       int backward) {
  int64_t H = m->hidden, C = m->classes, L = m->blocks;
  size_t acts = (size_t)B * H;
  linear(x, use(&m->w0, 0), NULL, B, FEATURES, H, m->z0);
  if (m->b0.info) {
    const float *b0 = use(&m->b0, 0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j)
        m->z0[b * H + j] += b0[j];
  }
  for (size_t i = 0; i < acts; ++i)
    m->h[i] = m->z0[i] > 0.0f ? m->z0[i] : 0.0f;
  for (int64_t l = 0; l < L; ++l) {
    const float *h = m->h + l * acts;
    float *a = m->a + l * acts, *z = m->z + l * acts;
    float *next = m->h + (l + 1) * acts;
    if (m->residual)
      for (size_t i = 0; i < acts; ++i)
        a[i] = h[i] > 0.0f ? h[i] : 0.0f;
    else
      memcpy(a, h, sizeof(float) * acts);
    linear(a, use(&m->w, l), NULL, B, H, H, z);
    const float *bias = bias_use(&m->b, l);
    if (bias)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j)
          z[b * H + j] += bias[j];
    if (m->residual) {
      float r = (float)m->residual[l];
      for (size_t i = 0; i < acts; ++i)
        next[i] = h[i] + r * z[i];
    } else {
      for (size_t i = 0; i < acts; ++i)
        next[i] = z[i] > 0.0f ? z[i] : 0.0f;
    }
  }
  const float *hL = m->h + L * acts;
  linear(hL, use(&m->wo, 0), bias_use(&m->bo, 0), B, H, C, m->logits);

  /* Mean cross-entropy (log-softmax), and its gradient in place. */
  double loss = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    float *row = m->logits + b * C;
    float top = row[0];
    for (int64_t k = 1; k < C; ++k)
      top = row[k] > top ? row[k] : top;
    float sum = 0.0f;
    for (int64_t k = 0; k < C; ++k)
      sum += expf(row[k] - top);
    float lse = top + logf(sum);
    loss += (double)(lse - row[y[b]]);
    for (int64_t k = 0; k < C; ++k)
      row[k] = (expf(row[k] - lse) - (k == y[b] ? 1.0f : 0.0f)) / (float)B;
  }
  loss /= (double)B;
  if (!backward)
    return loss;

  /* Readout. */
  weight_grad(m->logits, hL, B, H, C, m->dW, m->bo.info ? m->db : NULL);
  store_grad(&m->wo, 0, m->dW);
  if (m->bo.info)
    store_grad(&m->bo, 0, m->db);
  input_grad(m->logits, use(&m->wo, 0), B, H, C, m->dh);
  /* Blocks, last to first; dh holds dL/dh[l + 1]. */
  for (int64_t l = L - 1; l >= 0; --l) {
    const float *a = m->a + l * acts;
    if (m->residual) {
      float r = (float)m->residual[l];
      for (size_t i = 0; i < acts; ++i)
        m->dz[i] = m->dh[i] * r;
    } else {
      const float *next = m->h + (l + 1) * acts;
      for (size_t i = 0; i < acts; ++i)
        m->dz[i] = next[i] > 0.0f ? m->dh[i] : 0.0f;
    }
    weight_grad(m->dz, a, B, H, H, m->dW, m->b.info ? m->db : NULL);
    store_grad(&m->w, l, m->dW);
    if (m->b.info)
      store_grad(&m->b, l, m->db);
    input_grad(m->dz, use(&m->w, l), B, H, H, m->dtmp);
    if (m->residual)
      for (size_t i = 0; i < acts; ++i)
        m->dh[i] += a[i] > 0.0f ? m->dtmp[i] : 0.0f;
    else
      memcpy(m->dh, m->dtmp, sizeof(float) * acts);
  }
  /* Input layer. */
  for (size_t i = 0; i < acts; ++i)
    m->dz[i] = m->h[i] > 0.0f ? m->dh[i] : 0.0f;
  weight_grad(m->dz, x, B, FEATURES, H, m->dW, m->b0.info ? m->db : NULL);
  store_grad(&m->w0, 0, m->dW);
  if (m->b0.info)
    store_grad(&m->b0, 0, m->db);
  return loss;
}

/* runner.py's schedule(). */
static double schedule(const char *kind, int64_t t, int64_t steps,
                       int64_t warmup) {
  if (warmup && t <= warmup)
    return (double)t / (double)warmup;
  double span = (double)(steps - warmup > 1 ? steps - warmup : 1);
  double progress = (double)(t - 1 - warmup) / span;
  if (!strcmp(kind, "cosine"))
    return 0.5 * (1.0 + cos(M_PI * progress));
  if (!strcmp(kind, "linear"))
    return 1.0 - progress;
  return 1.0;
}

static int parse_int(const char *flag, const char *text, int64_t min,
                     int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || *end || end == text || v < min || v > (1ll << 40)) {
    fprintf(stderr,
            "mlp_trainer: error: %s expects an integer >= %lld, got "
            "'%s'\n",
            flag, (long long)min, text);
    return 1;
  }
  *out = v;
  return 0;
}

static int takes_value(const char *flag) {
  static const char *const flags[] = {"--data",   "--schedule", "--lr",
                                      "--steps",  "--batch",    "--seed",
                                      "--warmup", "--eval"};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; ++i)
    if (!strcmp(flag, flags[i]))
      return 1;
  return 0;
}

int main(int argc, char **argv) {
  const char *package = NULL, *data = "/usr/share/datasets/fashion-mnist";
  const char *sched = "cosine";
  int64_t steps = 100, batch = 128, seed = 0, warmup = 0, eval = 0;
  double lr = 1.0;
  int zero_readout = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    int has = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--zero-readout")) {
      zero_readout = 1;
    } else if (takes_value(a) && !has) {
      fprintf(stderr, "mlp_trainer: error: %s needs a value\n", a);
      return 1;
    } else if (!strcmp(a, "--data")) {
      data = argv[++i];
    } else if (!strcmp(a, "--schedule")) {
      sched = argv[++i];
      if (strcmp(sched, "constant") && strcmp(sched, "cosine") &&
          strcmp(sched, "linear")) {
        fprintf(stderr,
                "mlp_trainer: error: --schedule: unknown '%s' "
                "(constant, cosine, linear)\n",
                sched);
        return 1;
      }
    } else if (!strcmp(a, "--lr")) {
      char *end;
      lr = strtod(argv[++i], &end);
      if (*end || !(lr >= 0.0) || !isfinite(lr)) {
        fprintf(stderr,
                "mlp_trainer: error: --lr expects a number >= 0, got "
                "'%s'\n",
                argv[i]);
        return 1;
      }
    } else if (!strcmp(a, "--steps") || !strcmp(a, "--batch") ||
               !strcmp(a, "--seed") || !strcmp(a, "--warmup") ||
               !strcmp(a, "--eval")) {
      int64_t *out = !strcmp(a, "--steps")   ? &steps
                     : !strcmp(a, "--batch") ? &batch
                     : !strcmp(a, "--seed")  ? &seed
                     : !strcmp(a, "--eval")  ? &eval
                                             : &warmup;
      int64_t min = (out == &steps || out == &batch) ? 1 : 0;
      if (parse_int(a, argv[++i], min, out))
        return 1;
    } else if (a[0] == '-') {
      fprintf(stderr,
              "mlp_trainer: error: unknown option '%s' (see "
              "--help)\n",
              a);
      return 1;
    } else if (!package) {
      package = a;
    } else {
      fprintf(stderr, "mlp_trainer: error: a second package '%s'\n", a);
      return 1;
    }
  }
  if (!package) {
    usage(stderr);
    return 1;
  }
  openblas_set_num_threads(1);

  dataset_t train = {0}, test = {0};
  if (load(data, "train", &train) || (eval && load(data, "t10k", &test)))
    return 1;
  if (batch > train.count)
    return fail("--batch is larger than the training set");

  muir_package_t *pkg;
  muir_state_t *st;
  if (muir_package_open(package, &pkg) != MUIR_OK)
    return fail_muir("opening the package");
  if (muir_state_create(pkg, MUIR_DEVICE_CPU, &st) != MUIR_OK)
    return fail_muir("creating a state");
  if (muir_state_init(st, (uint64_t)seed) != MUIR_OK)
    return fail_muir("init");
  float *params, *grads;
  int64_t elements;
  if (muir_state_buffer(st, MUIR_BUFFER_PARAMS, &params, &elements) !=
          MUIR_OK ||
      muir_state_buffer(st, MUIR_BUFFER_GRADS, &grads, &elements) != MUIR_OK)
    return fail_muir("buffers");
  int64_t biggest = batch > eval ? batch : eval;
  mlp_t m;
  if (mlp_open(pkg, params, grads, biggest, &m))
    return 1;
  if (zero_readout)
    memset(m.wo.w, 0, sizeof(float) * m.wo.info->numel);

  float *x = malloc(sizeof(float) * biggest * FEATURES);
  int64_t *y = malloc(sizeof(int64_t) * biggest);
  int64_t *perm = malloc(sizeof(int64_t) * train.count);
  if (!x || !y || !perm)
    return fail("out of memory");
  int64_t per_epoch = train.count / batch, epoch = -1;
  for (int64_t t = 1; t <= steps; ++t) {
    int64_t index = t - 1;
    if (index / per_epoch != epoch) {
      epoch = index / per_epoch;
      permutation(perm, train.count, (uint64_t)seed, (uint64_t)epoch);
    }
    const int64_t *rows = perm + (index % per_epoch) * batch;
    for (int64_t b = 0; b < batch; ++b) {
      standardise(train.pixels + rows[b] * FEATURES, x + b * FEATURES);
      y[b] = train.labels[rows[b]];
    }
    double loss = mlp_step(&m, x, y, batch, 1);
    printf("step %lld loss %.9g\n", (long long)t, loss);
    if (!isfinite(loss)) {
      printf("diverged\n");
      break;
    }
    float factor = (float)(lr * schedule(sched, t, steps, warmup));
    if (muir_state_step(st, t, factor) != MUIR_OK)
      return fail_muir("step");
  }
  if (eval) {
    int64_t n = eval < test.count ? eval : test.count;
    for (int64_t b = 0; b < n; ++b) {
      standardise(test.pixels + b * FEATURES, x + b * FEATURES);
      y[b] = test.labels[b];
    }
    printf("held-out loss %.9g\n", mlp_step(&m, x, y, n, 0));
  }
  muir_state_release(st);
  muir_package_release(pkg);
  return 0;
}
