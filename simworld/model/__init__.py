"""The bundled video diffusion model, one module per component (read in this order):

vae.py          video compression network (8x space, 4x time)
transformer.py  diffusion transformer over spacetime patches (DiT, adaLN-Zero, text cross-attention, 3D RoPE)
text.py         frozen sentence encoder for captions (all-MiniLM-L6-v2), cached embeddings
flow.py         rectified flow: noising, loss, timestep sampling, conditioning masks
sampler.py      Euler / Heun steps with classifier-free guidance
data.py         training clips from simworld.world in size buckets, cached
train.py        the training loop (`simworld train model=NAME`)
checkpoint.py   safetensors + JSON card, clear errors, where the bundled checkpoints and their VAE are found
pipeline.py     the parts composed into caption (+ given frames) -> video, with the sampling loop
precision.py    the number format a machine runs fast (bf16 only where native)
The `bundled` generator (simworld/generators/bundled.py) wraps the pipeline; the model never imports a generator.
"""
