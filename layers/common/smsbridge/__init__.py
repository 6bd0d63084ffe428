"""SMS Bridge: plug any HTTP SMS provider into AWS."""
