//! Acting for a departed node in IMM: one attempt, safe to repeat and to race.
