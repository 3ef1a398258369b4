"""Self-generated test corpus: malicious model files with harmless payloads, and benign files
written by the real libraries. `build_corpus(out_dir)` is the stable entry point."""
