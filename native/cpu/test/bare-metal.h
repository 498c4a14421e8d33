/*
 * What the bare-metal emulator tests have instead of a C library: the memory functions gcc may call,
 * output to the Bochs debug port (0xE9, which the emulator prints), a bump allocator over a static pool
 * and a seeded xorshift generator. Baseline x86-64 code only.
 */
#ifndef TESSERA_BARE_METAL_H
#define TESSERA_BARE_METAL_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void put_str(const char *s);
void put_int(int64_t v);

/* 64-byte aligned, zeroed; the pool is never freed (each test run is one boot). */
void *bump_alloc(size_t bytes);

uint64_t rng_next(uint64_t *state);
/* Uniform in [lo, hi]. */
int32_t rng_int(uint64_t *state, int32_t lo, int32_t hi);

#endif
