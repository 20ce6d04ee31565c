"""Operations: health, metrics, backups and logs."""
