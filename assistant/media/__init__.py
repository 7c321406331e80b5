"""Media: photos, voice notes and documents turned into model input; files and voice sent back."""
