package directory

// graphAppRoles are Microsoft Graph's application permissions that
// aksid's Graph face honours, with Microsoft's IDs (the same in every
// tenant, read from Microsoft Graph's permission reference), so that
// scripts that assign them by ID or look them up by value work unchanged.
var graphAppRoles = []AppRole{
	graphRole("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
	graphRole("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications"),
	graphRole("18a4783c-866b-4cc7-a460-3d5e5662c884", "Application.ReadWrite.OwnedBy", "Manage apps that this app creates or owns"),
	graphRole("06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All", "Manage app permission grants and app role assignments"),
	graphRole("8e8e4742-1d95-4f68-9d56-6ee75648c72a", "DelegatedPermissionGrant.ReadWrite.All", "Manage all delegated permission grants"),
	graphRole("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
	graphRole("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
	graphRole("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
	graphRole("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Read and write all groups"),
	graphRole("98830695-27a2-44f7-8c18-0c3ebc9698f6", "GroupMember.Read.All", "Read all group memberships"),
	graphRole("dbaae8cf-10b5-4b86-a4a1-f871c94c6695", "GroupMember.ReadWrite.All", "Read and write all group memberships"),
	graphRole("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
	graphRole("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles"),
	graphRole("9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory", "Read and write all directory RBAC settings"),
}

func graphRole(id, value, name string) AppRole {
	return AppRole{ID: id, Value: value, DisplayName: name, Description: name + ", without a signed-in user.",
		AllowedMemberTypes: []string{"Application"}, IsEnabled: true}
}

// graphScopes are Microsoft Graph's delegated permissions that admin
// consent may grant, with Microsoft's IDs.
var graphScopes = []PermissionScope{
	graphScope("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "User", "Sign in and read user profile"),
	graphScope("b340eb25-3456-403f-be2f-af7a0d370277", "User.ReadBasic.All", "User", "Read all users' basic profiles"),
	graphScope("a154be20-db9c-4678-8ab7-66f6cc099a59", "User.Read.All", "Admin", "Read all users' full profiles"),
	graphScope("204e0828-b5ca-4ad8-b9f3-f32a958e7cc4", "User.ReadWrite.All", "Admin", "Read and write all users' full profiles"),
	graphScope("06da0dbc-49e2-44d2-8312-53f166ab848a", "Directory.Read.All", "Admin", "Read directory data"),
	graphScope("c5366453-9fb0-48a5-a156-24f0c49a4b84", "Directory.ReadWrite.All", "Admin", "Read and write directory data"),
	graphScope("c79f8feb-a9db-4090-85f9-90d820caa0eb", "Application.Read.All", "Admin", "Read applications"),
	graphScope("bdfbf15f-ee85-4955-8675-146e8e5296b5", "Application.ReadWrite.All", "Admin", "Read and write all applications"),
	graphScope("5f8c59db-677d-491f-a6b8-5f174b11ec1d", "Group.Read.All", "Admin", "Read all groups"),
	graphScope("4e46008b-f24c-477d-8fff-7bb4ec7aafe0", "Group.ReadWrite.All", "Admin", "Read and write all groups"),
	graphScope("bc024368-1153-4739-b217-4326f2e966d0", "GroupMember.Read.All", "Admin", "Read group memberships"),
	graphScope("f81125ac-d3b7-4573-a3b2-7099cc39df9e", "GroupMember.ReadWrite.All", "Admin", "Read and write group memberships"),
	graphScope("37f7f235-527c-4136-accd-4a02d197296e", "openid", "User", "Sign users in"),
	graphScope("14dad69e-099b-42c9-810b-d002981feec1", "profile", "User", "View users' basic profile"),
	graphScope("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email", "User", "View users' email address"),
	graphScope("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access", "User", "Maintain access to data you have given it access to"),
}

// armScopes and aksServerScopes are the one delegated permission each of
// ARM and AKS's server application exposes, with Microsoft's IDs.
var (
	armScopes       = []PermissionScope{graphScope("41094075-9dad-400e-a0bd-54e686782033", "user_impersonation", "User", "Access Azure Service Management as organization users")}
	aksServerScopes = []PermissionScope{graphScope("34a47c2f-cd0d-47b4-a93c-2c41130c671c", "user.read", "User", "Read the signed-in user's profile")}
)

func graphScope(id, value, consentType, name string) PermissionScope {
	return PermissionScope{ID: id, Value: value, Type: consentType, AdminConsentDisplayName: name,
		AdminConsentDescription: name + ", on behalf of the signed-in user.", UserConsentDisplayName: name, IsEnabled: true}
}
