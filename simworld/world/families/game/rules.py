"""The game's rules as numbers: its actions, the island's size, how fast the player walks, turns and looks, how
far it reaches, where the fog begins. Every other part of the game reads them from here."""

ACTIONS = ("forward", "back", "strafe_left", "strafe_right", "turn_left", "turn_right", "look_up", "look_down",
           "jump", "place", "break", "idle")
POLICIES = ("explore", "builder")
TERRAINS = ("plains", "hills", "highlands")
TERRAIN_WORDS = {"plains": "flat, grassy", "hills": "hilly", "highlands": "rocky, mountainous"}

SIZE, DEPTH, SEA = 32, 22, 3  # island columns per side, grid height, water surface height (m)
CHUNK = 16  # terrain mesh chunk, columns per side
FOV_Y = 70.0  # Minecraft's default field of view
EYE = 1.6  # eye height above the feet, m
HALF_WIDTH, BODY_HEIGHT = 0.3, 1.8  # player collision box
WALK_SPEED = 4.3  # m/s
TURN_RATE = 90.0  # deg/s of yaw per turn action
LOOK_RATE = 60.0  # deg/s of pitch per look action
MAX_PITCH = 80.0
GRAVITY, JUMP_SPEED = 32.0, 9.0  # m/s^2, m/s: a 1.27 m hop, like Minecraft's
REACH = 5.0  # m
FOG_START, FOG_END = 22.0, 48.0  # m of depth over which the world fades to the horizon colour
