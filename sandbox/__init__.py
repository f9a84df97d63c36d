"""Demo legacy ERP and sample-document generator used by demos, tests and benchmarks."""
