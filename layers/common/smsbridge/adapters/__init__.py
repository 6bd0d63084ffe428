"""Adapters: the only modules that touch the network (AWS services through boto3, providers through requests)."""
