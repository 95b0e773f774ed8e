/*
 * mono: milliseconds on the monotonic clock, and sleeping, for deadlines
 * and backoff. Deadlines must not jump when the wall clock is set.
 */
#ifndef KVGATE_MONO_H
#define KVGATE_MONO_H

/* Milliseconds on CLOCK_MONOTONIC (from an arbitrary start). */
long mono_ms(void);

/* Sleep ms milliseconds; a sleep interrupted by a signal resumes. */
void mono_sleep_ms(long ms);

#endif
