"""The knowledge test: does a model that can score a clip find the ground truth less surprising than impossible
twins of it? (IntPhys's matched sets, scored as LikePhys scores a video diffusion model: by its denoising loss.)"""
