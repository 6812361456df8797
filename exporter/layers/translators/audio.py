"""Audio front ends: STFTSpectrogram and MelSpectrogram, as webnets classes (webnets-layers.js)."""
