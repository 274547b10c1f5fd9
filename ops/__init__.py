"""Day-to-day operation of an airgap stack (python -m ops)."""
