"""The measurement layer the analyzer families share, with no registry: optical flow (flow), colour segmentation
(segmentation), object tracks and their comparison (tracks, tracking), an object's passages out of sight in the
ground truth (passages), where and how much a still picture changed (change), shot cuts read from the frames (cuts),
the camera's own motion estimated from the frames and taken out of points (camera), and the one tolerance rule
that turns a measured excess into a score component (tolerance)."""
