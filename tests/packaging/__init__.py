"""Tests of the built wheel, installed and used as a new user would."""
