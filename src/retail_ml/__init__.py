"""retail_ml: an online retailer's data-science prep taken to production (dbt + DuckDB)."""

__version__ = "0.1.0"
