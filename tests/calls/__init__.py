"""Tests of the video call: signalling, tracks, two calls in one process."""
