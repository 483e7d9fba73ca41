//! The Recommendations service (under construction).
