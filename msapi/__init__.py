"""Clients for Azure DevOps, Microsoft Graph and Azure Resource Manager (httpx, tokens through msal)."""
