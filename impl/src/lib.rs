//! The executable Sprite cluster (see issue 3).
