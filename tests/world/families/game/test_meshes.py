"""The game's voxel meshes: only faces open to air are kept, except a landmark's faces against other objects."""

import numpy as np

from simworld.world.families.game import blocks, rules
from simworld.world.families.game.meshes import face_mesh


def test_meshes_keep_only_faces_open_to_air_except_landmarks_against_others():
    grid = np.zeros((rules.SIZE, rules.SIZE, rules.DEPTH), np.uint8)
    grid[5, 5, 3] = blocks.STONE
    grid[6, 5, 3] = blocks.PUMPKIN
    alone = grid == blocks.PUMPKIN
    verts, indices, uvs, normals = face_mesh(grid, alone, (0, 0, 0), pumpkin_facing=0)
    assert len(verts) == 4 * 5 and len(indices) == 6 * 5  # the face against the stone is culled...
    assert not np.any(np.all(normals == (-1, 0, 0), axis=1))
    verts, _, uvs, normals = face_mesh(grid, alone, (0, 0, 0), pumpkin_facing=0, solid=alone)
    assert len(verts) == 4 * 6  # ...unless only the object's own blocks hide its faces (a landmark)
    assert np.all((verts >= (6, 5, 3)) & (verts <= (7, 6, 4)))
    assert np.all((uvs > 0) & (uvs < 1))
