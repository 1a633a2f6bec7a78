// Preloaded into profiled servers (BENCH_CPU_PROF): a server with no SIGTERM handler of its own
// exits normally on SIGTERM, so node writes its --cpu-prof profile.
process.once('SIGTERM', () => {
  if (process.listenerCount('SIGTERM') === 0) process.exit(0);
});
