"""Full screens and modals: dashboard, doctor, setup wizard, model picker."""
