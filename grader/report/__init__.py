"""Writers that turn results into reports and exports."""
