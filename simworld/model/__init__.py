"""The bundled video diffusion model, one module per component (read in this order):

vae.py          video compression network (8x space, 4x time)
transformer.py  diffusion transformer over spacetime patches (DiT, adaLN-Zero, text cross-attention, 3D RoPE)
text.py         frozen sentence encoder for captions (all-MiniLM-L6-v2), cached embeddings
flow.py         rectified flow: noising, loss, timestep sampling, conditioning masks
sampler.py      Euler / Heun steps with classifier-free guidance
data.py         training clips from simworld.world in size buckets, cached
train.py        the training loop (`simworld train model=NAME`)
checkpoint.py   safetensors + JSON card, clear errors
The `bundled` generator (simworld/generators/bundled.py) composes them and owns the sampling loop.
"""
