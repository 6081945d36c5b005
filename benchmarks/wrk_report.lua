-- wrk reporter for benchmarks/bench_web.py: one JSON line with the numbers the benchmark prints
-- (latency in microseconds; wrk itself prints only the 50/75/90/99th percentiles).
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format('KBONE_WRK {"n": %d, "errors": %d, "p50_us": %d, "p95_us": %d, "seconds": %f}\n',
    summary.requests, errors, latency:percentile(50), latency:percentile(95), summary.duration / 1e6))
end
