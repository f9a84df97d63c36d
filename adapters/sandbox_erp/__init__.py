"""The sandbox ERP as a robot sees it: page objects and a Playwright session."""
