"""`make bench` / `python -m bench`: sizes, accuracy, export time and browser latency of the zoo,
side by side with the official converter and ONNX Runtime Web (results in bench/results.*)."""
