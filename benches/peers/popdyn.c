/* A straightforward C implementation of the bicoloring population-dynamics
 * recursion (PHYSICS.md section 13), diffusion path, as a yardstick for
 * src/theory/popdyn.rs: cavity fields stored as doubles, tanh / log per
 * message, in-place (sequential) updates, xorshift random numbers, Knuth
 * Poisson sampling. Not part of the product.
 *
 *   cc -O3 -march=native -o popdyn benches/peers/popdyn.c -lm
 *   ./popdyn K ALPHA GAMMA2 POPULATION ITERATIONS
 * prints: updates/s and the overlap E tanh h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t s[2] = {0x9E3779B97F4A7C15ULL, 0xD1B54A32D192ED03ULL};
static inline uint64_t next(void) {
    uint64_t s1 = s[0];
    const uint64_t s0 = s[1];
    const uint64_t result = s0 + s1;
    s[0] = s0;
    s1 ^= s1 << 23;
    s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
    return result;
}
static inline double uniform(void) { return (next() >> 11) * 0x1.0p-53; }
static inline uint64_t below(uint64_t n) { return (uint64_t)(((__uint128_t)next() * n) >> 64); }
static double gauss(void) {
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}
static int poisson(double mean) {
    double l = exp(-mean), p = 1.0;
    int k = 0;
    do { k++; p *= uniform(); } while (p > l);
    return k - 1;
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: K ALPHA GAMMA2 POPULATION ITERATIONS\n"); return 2; }
    int k = atoi(argv[1]);
    double alpha = atof(argv[2]), gamma2 = atof(argv[3]);
    long pop = atol(argv[4]), iterations = atol(argv[5]);
    double *h = malloc(sizeof(double) * pop);
    for (long i = 0; i < pop; i++) h[i] = 0.0;
    uint32_t all_plus = (1u << (k - 1)) - 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long it = 0; it < iterations; it++) {
        for (long i = 0; i < pop; i++) {
            /* gauged: the new element's planted color is + */
            double field = gamma2 + sqrt(gamma2) * gauss();
            int d = poisson(k * alpha);
            for (int a = 0; a < d; a++) {
                uint32_t pattern = (uint32_t)below(all_plus);
                double pp = 1.0, pm = 1.0;
                for (int j = 0; j < k - 1; j++) {
                    double m = tanh(h[below(pop)]);
                    if (!((pattern >> j) & 1)) m = -m;
                    pp *= 0.5 * (1.0 + m);
                    pm *= 0.5 * (1.0 - m);
                }
                field += 0.5 * log((1.0 - pp) / (1.0 - pm));
            }
            h[below(pop)] = field;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    double ov = 0.0;
    for (long i = 0; i < pop; i++) ov += tanh(h[i]);
    printf("%.4e updates/s overlap %.4f\n", pop * iterations / secs, ov / pop);
    free(h);
    return 0;
}
