"""The command-line contract under property-based fuzzing (hypothesis): see test_contract.py."""
